import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { buttonsOf } from '../../src/offline/console-session.js';
import { actor } from '../helpers/db.js';
import { as, displayed } from '../helpers/discord.js';
import { freshBot } from '../helpers/fresh.js';

type Embed = { title?: string; fields?: { name: string; value: string }[] };
const field = (embed: Embed | undefined, name: string) =>
  displayed(embed?.fields?.find((f) => f.name === name)?.value);

/** A bot of the test's own with `live` on in production and staging (version 2). */
async function liveFlag(label: string) {
  const { db, bot } = await freshBot(label);
  const flags = bot.ctx.flags;
  await flags.create({ name: 'live', description: 'Live', type: 'ops', owner: 'ops' }, actor());
  await flags.update(
    'live',
    (f) => ({ ...f, enabled: true, environments: ['production', 'staging'] }),
    actor(),
  );
  return { db, bot, flags };
}

describe('/flag off and rollback ask for confirmation', () => {
  it('off of a flag on in production shows what would change; Confirm switches it off', async () => {
    const { bot, flags } = await liveFlag('flag_off_confirm');
    const s = bot.session();
    const [, prompt] = await s.run('/flag off name:live reason:"incident 42"');
    expect(prompt?.embeds[0]?.title).toBe(
      'Switch off live everywhere (kill switch)? It is on in production.',
    );
    expect(field(prompt?.embeds[0], 'Changes')).toBe('• on: on → off');
    expect(buttonsOf({ components: prompt?.components ?? [] }).map((b) => b.label)).toEqual([
      'Confirm',
      'Cancel',
    ]);
    expect(flags.get('live')?.flag.enabled).toBe(true);

    const done = await s.press('Confirm');
    expect(done.map((r) => r.kind)).toEqual(['deferUpdate', 'editReply']);
    expect(done[1]?.embeds[0]?.title).toBe('Turned off live');
    expect(field(done[1]?.embeds[0], 'Version')).toBe('2 → 3');
    expect(done[1]?.components).toEqual([]);
    expect(flags.get('live')?.flag.enabled).toBe(false);
    const v3 = (await flags.history('live', { limit: 1 }))[0];
    expect(v3).toMatchObject({ version: 3, reason: 'incident 42', actor: { id: as.admin().user.id } });
  });

  it('removing production asks; Cancel changes nothing; removing staging does not ask', async () => {
    const { bot, flags } = await liveFlag('flag_off_env');
    const s = bot.session();
    const [, prompt] = await s.run('/flag off name:live env:production');
    expect(prompt?.embeds[0]?.title).toBe('Turn off live in production?');
    const [cancelled] = await s.press('Cancel');
    expect(cancelled?.embeds[0]?.title).toBe('Cancelled: turning off live in production');
    expect(flags.get('live')?.flag.environments).toEqual(['production', 'staging']);

    const [, staging] = await s.run('/flag off name:live env:staging');
    expect(staging?.embeds[0]?.title).toBe('Turned off in staging: live');
    expect(staging?.components).toEqual([]);
    expect(flags.get('live')?.flag.environments).toEqual(['production']);
  });

  it('refuses a Confirm after someone else changed the flag, and audits the refusal', async () => {
    const { db, bot, flags } = await liveFlag('flag_off_moved');
    const s = bot.session();
    await s.run('/flag off name:live');
    await flags.update('live', (f) => ({ ...f, rollout: 50 }), { id: 'someone', tag: 'someone' });
    const [, result] = await s.press('Confirm');
    expect(displayed(result?.embeds[0]?.description)).toMatch(
      /live changed since this preview \(v2 → v3\); nothing was changed/,
    );
    expect(flags.get('live')?.flag).toMatchObject({ enabled: true, rollout: 50 });
    const row = await bindModels(db.conn)
      .ConfigAudit.findOne({ key: 'flag:live', status: 'failed', 'actor.id': as.admin().user.id })
      .lean();
    expect(row?.error).toMatch(/changed since this preview/);
  });

  it('another admin cannot press the buttons of someone else’s confirmation', async () => {
    const { bot, flags } = await liveFlag('flag_off_intruder');
    const owner = bot.session();
    await owner.run('/flag off name:live');
    const prompt = owner.current();
    if (!prompt) throw new Error('no prompt');
    const [refusal] = await bot.session(as.otherAdmin()).pressOn(prompt, 'Confirm');
    expect(displayed(refusal?.embeds[0]?.description)).toBe(
      'Only the admin who asked for this turning off live can confirm or cancel it.',
    );
    expect(flags.get('live')?.flag.enabled).toBe(true);
  });

  it('rollback previews the changes, and Confirm restores the version as a new one', async () => {
    const { bot, flags } = await liveFlag('flag_rollback');
    await flags.update('live', (f) => ({ ...f, rollout: 10 }), actor());
    const s = bot.session();
    const choices = await s.complete('/flag rollback name:live version:');
    expect(choices.map((c) => c.value)).toEqual([2, 1]);
    const [, prompt] = await s.run('/flag rollback name:live version:2');
    expect(prompt?.embeds[0]?.title).toBe('Roll back live to version 2?');
    expect(field(prompt?.embeds[0], 'Changes')).toBe('• rollout: 10% → 100%');
    const [, done] = await s.press('Confirm');
    expect(done?.embeds[0]?.title).toBe('Rolled back live');
    expect(field(done?.embeds[0], 'Version')).toBe('3 → 4 (restores v2)');
    expect(flags.get('live')?.flag.rollout).toBe(100);
  });

  it('a rollback confirmed after a concurrent change is refused', async () => {
    const { bot, flags } = await liveFlag('flag_rollback_moved');
    const s = bot.session();
    await s.run('/flag rollback name:live version:1');
    await flags.update('live', (f) => ({ ...f, rollout: 30 }), actor());
    const [, result] = await s.press('Confirm');
    expect(displayed(result?.embeds[0]?.description)).toMatch(/changed since this preview \(v2 → v3\)/);
    expect(flags.get('live')).toMatchObject({ version: 3, flag: { enabled: true, rollout: 30 } });
  });
});
