import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { FlagStore } from '../../src/flags/flags.js';
import { actor } from '../helpers/db.js';
import { displayed } from '../helpers/discord.js';
import { freshBot } from '../helpers/fresh.js';

type Embed = { title?: string; description?: string; fields?: { name: string; value: string }[] };
const names = (embed: Embed | undefined) => (embed?.fields ?? []).map((x) => displayed(x.name));
const field = (embed: Embed | undefined, name: string) =>
  displayed(embed?.fields?.find((x) => x.name === name)?.value);

const fullyOn = { type: 'release' as const, owner: 'web', enabled: true, environments: ['production'] };

describe('/flag list', () => {
  it('marks stale and never-evaluated flags, lists unknown evaluated names, and stale:true shows only stale ones', async () => {
    const { db, svc, bot } = await freshBot('flag_list');
    // Written by another process 90 days ago: this bot's store reads it from the database.
    const elsewhere = new FlagStore(svc);
    await elsewhere.load();
    await elsewhere.create({ name: 'old-launch', description: 'Launched long ago', ...fullyOn }, actor());
    const past = new Date(Date.now() - 90 * 86_400_000);
    await bindModels(db.conn).SystemConfig.updateOne(
      { key: 'flag:old-launch' },
      { $set: { updatedAt: past } },
    );
    await bot.ctx.flags.load();
    await bot.ctx.flags.create({ name: 'fresh', description: 'New', ...fullyOn }, actor());
    await bot.ctx.flags.usage.add({
      fresh: { rollout_in: 3, excluded: 1 },
      'fresh-typo': { unknown_flag: 2 },
    });

    const [, all] = await bot.session().run('/flag list');
    const embed = all?.embeds[0];
    expect(names(embed)).toEqual(['fresh', 'old-launch ⚠️ stale · never evaluated']);
    expect(field(embed, 'old-launch ⚠️ stale · never evaluated')).toMatch(
      /Stale: fully on, unchanged for 90 days: remove it from the code/,
    );
    expect(displayed(embed?.description)).toMatch(/2 flags · 1 stale .* · 1 never evaluated/);
    expect(displayed(embed?.description)).toMatch(/no flag has the name \(a typo in code\?\): `fresh-typo`/);

    const [, stale] = await bot.session().run('/flag list stale:true');
    expect(names(stale?.embeds[0])).toEqual(['old-launch ⚠️ stale · never evaluated']);

    const [, view] = await bot.session().run('/flag view name:fresh');
    expect(field(view?.embeds[0], 'Evaluations, last 24 h')).toBe('on 3 (rollout_in 3)\noff 1 (excluded 1)');
    const [, oldView] = await bot.session().run('/flag view name:old-launch');
    expect(field(oldView?.embeds[0], '⚠️ Stale')).toMatch(/fully on, unchanged for 90 days/);
    expect(bot.discord.violations).toEqual([]);
  });

  it('archive hides a flag from list, history shows every version, and a type filter applies', async () => {
    const { bot } = await freshBot('flag_archive');
    const s = bot.session();
    await s.run('/flag create name:keep-me description:Kept type:ops');
    await s.run('/flag create name:drop-me description:Dropped type:release');
    await s.run('/flag rollout name:drop-me percent:40');
    const [, archived] = await s.run('/flag archive name:drop-me reason:"not needed"');
    expect(archived?.embeds[0]?.title).toBe('Archived drop-me');
    expect(field(archived?.embeds[0], 'Changes')).toBe('• archived: no → yes');

    const [, list] = await s.run('/flag list');
    expect(names(list?.embeds[0])).toEqual(['keep-me · never evaluated']);
    const [, ops] = await s.run('/flag list type:release');
    expect(names(ops?.embeds[0])).toEqual([]);
    expect(displayed(ops?.embeds[0]?.description)).toBe('No flags. /flag create makes one.');

    const [, history] = await s.run('/flag history name:drop-me');
    const h = history?.embeds[0];
    expect(h?.title).toBe('History of drop-me');
    expect(names(h)).toEqual(['v3 · archive', 'v2 · set', 'v1 · create']);
    expect(field(h, 'v3 · archive')).toMatch(/“not needed”\n• archived: no → yes$/);
    expect(field(h, 'v2 · set')).toMatch(/• rollout: 100% → 40%$/);
  });

  it('archiving a flag on in production asks first', async () => {
    const { bot } = await freshBot('flag_archive_prod');
    await bot.ctx.flags.create({ name: 'prod-flag', description: 'On', ...fullyOn }, actor());
    const s = bot.session();
    const [, prompt] = await s.run('/flag archive name:prod-flag');
    expect(prompt?.embeds[0]?.title).toBe(
      'Archive prod-flag? It is on in production and will be off everywhere.',
    );
    expect(bot.ctx.flags.get('prod-flag')?.flag.archived).toBe(false);
    const [, done] = await s.press('Confirm');
    expect(done?.embeds[0]?.title).toBe('Archived prod-flag');
    expect(bot.ctx.flags.get('prod-flag')?.flag).toMatchObject({ archived: true, enabled: false });
  });
});
