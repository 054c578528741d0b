import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { actor } from '../helpers/db.js';
import { displayed, useBot } from '../helpers/discord.js';
import { freshBot } from '../helpers/fresh.js';

type Embed = { title?: string; description?: string; fields?: { name: string; value: string }[] };
const field = (embed: Embed | undefined, name: string) =>
  displayed(embed?.fields?.find((x) => x.name === name)?.value);

// One admin makes every change of this file: more than the default limits allow in a minute.
const f = useBot('discord_flag_details', { changesPerMinute: 1000, attemptsPerMinute: 1000 });

/** A flag of the calling test's own, version 1, off. */
async function flag(name: string) {
  await f.bot.ctx.flags.create({ name, description: 'A flag', type: 'experiment', owner: 'team' }, actor());
  return () => f.bot.ctx.flags.get(name);
}

const reply = async (line: string) => (await f.bot.session().run(line)).at(-1)?.embeds[0];

/** The refusal a line gets (a "Not done" reply), as the user reads it. */
const refusal = async (line: string) => {
  const embed = await reply(line);
  expect(embed?.title).toBe('Not done');
  return displayed(embed?.description);
};

const failed = (key: string) => bindModels(f.db.conn).ConfigAudit.find({ key, status: 'failed' }).lean();

describe('/flag variants and payload', () => {
  it('sets variants with weights, a payload of each type, and view shows them', async () => {
    const held = await flag('checkout-test');
    const set = await reply('/flag variants name:checkout-test weights:"control:500, one-click:500"');
    expect(set?.title).toBe('Variants of checkout-test');
    expect(field(set, 'Changes')).toBe('• variants: +control (500), +one-click (500)');
    const json = await reply(
      `/flag payload name:checkout-test variant:one-click type:json value:'{"steps":1}'`,
    );
    expect(field(json, 'Changes')).toBe('• variants: +one-click (500, json {"steps":1}), -one-click (500)');
    await reply('/flag payload name:checkout-test variant:control type:number value:0');
    // New weights keep the payloads of the variants that stay.
    await reply('/flag variants name:checkout-test weights:"control:250, one-click:750"');
    expect(held()?.flag.variants).toEqual([
      { name: 'control', weight: 250, payload: { type: 'number', value: '0' } },
      { name: 'one-click', weight: 750, payload: { type: 'json', value: '{"steps":1}' } },
    ]);
    expect(field(await reply('/flag view name:checkout-test'), 'Variants')).toBe(
      'control (25%): number 0\none-click (75%): json {"steps":1}',
    );
    await reply('/flag payload name:checkout-test variant:control remove:true');
    expect(held()?.flag.variants[0]).toEqual({ name: 'control', weight: 250 });
    const cleared = await reply('/flag variants name:checkout-test clear:true');
    expect(field(cleared, 'Changes')).toMatch(/^• variants: -control \(250\), -one-click/);
    expect(held()).toMatchObject({ version: 7, flag: { variants: [] } });
  });

  it('refuses weights that do not add up, malformed ones, a payload of the wrong type, and changes nothing', async () => {
    const held = await flag('bad-variants');
    expect(await refusal('/flag variants name:bad-variants weights:"a:500, b:400"')).toBe(
      'bad-variants was not changed:\n• variants: weights must add up to 1000 (thousandths, as in Unleash), they add up to 900',
    );
    expect(await refusal('/flag variants name:bad-variants weights:"a 500, b:500"')).toMatch(
      /^variants: "a 500" is not name:weight\. Give every variant with its weight in thousandths/,
    );
    expect(await refusal('/flag variants name:bad-variants weights:"a:1000.5"')).toMatch(
      /variants\[0\]\.weight: must be a whole number/,
    );
    expect(await refusal('/flag variants name:bad-variants weights:a:1000 clear:true')).toMatch(
      /^Give either weights or clear:true/,
    );
    await reply('/flag variants name:bad-variants weights:"a:500, b:500"');
    expect(await refusal('/flag payload name:bad-variants variant:a type:number value:ten')).toBe(
      'bad-variants was not changed:\n• variants[0].payload.value: `ten` is not a number',
    );
    expect(await refusal(`/flag payload name:bad-variants variant:b type:json value:'{"a":'`)).toMatch(
      /variants\[1\]\.payload\.value: `\{"a":` is not valid JSON/,
    );
    expect(await refusal('/flag payload name:bad-variants variant:c type:string value:x')).toBe(
      'c is not a variant of bad-variants (its variants: a, b).',
    );
    expect(await refusal('/flag payload name:bad-variants variant:a type:string')).toMatch(
      /needs both type \(string, json, csv, number\) and value/,
    );
    expect(held()).toMatchObject({ version: 2, flag: { variants: [{ name: 'a' }, { name: 'b' }] } });
    expect(held()?.flag.variants.some((v) => v.payload)).toBe(false);
    expect(await failed('flag:bad-variants')).toHaveLength(8);
  });

  it('suggests the variants of the flag named', async () => {
    await flag('complete-variants');
    await reply('/flag variants name:complete-variants weights:"blue:300, green:700"');
    await reply('/flag payload name:complete-variants variant:green type:string value:g');
    expect(await f.bot.session().complete('/flag payload name:complete-variants variant:')).toEqual([
      { name: 'blue (30%)', value: 'blue' },
      { name: 'green (70%, string payload)', value: 'green' },
    ]);
  });
});

describe('/flag stickiness', () => {
  it('sets what the rollout hashes and its group, warning that users are bucketed anew', async () => {
    const held = await flag('sticky');
    const set = await reply('/flag stickiness name:sticky by:tenant_id group:checkout');
    expect(field(set, 'Changes')).toBe('• stickiness: userId → tenant_id\n• group: none → checkout');
    expect(field(set, '⚠️ Warning')).toMatch(/bucketed anew[\s\S]*must pass the attribute tenant_id/);
    expect(field(await reply('/flag view name:sticky'), 'Rollout')).toBe(
      '100% by tenant_id (group checkout)',
    );
    await reply('/flag stickiness name:sticky by:guildId group:none');
    expect(held()?.flag).toMatchObject({ stickiness: 'guildId' });
    expect(held()?.flag.group).toBeUndefined();
  });

  it('refuses a stickiness no application sends, with what was meant, and changes nothing', async () => {
    const held = await flag('unsticky');
    expect(await refusal('/flag stickiness name:unsticky by:userid')).toBe(
      'unsticky was not changed:\n• stickiness: `userid` is not a context field: did you mean userId? (names are case-sensitive)',
    );
    expect(await refusal('/flag stickiness name:unsticky by:"user id"')).toMatch(
      /stickiness: `user id` is not userId, guildId or an attribute name/,
    );
    expect(await refusal('/flag stickiness name:unsticky by:__proto__')).toMatch(
      /stickiness: `__proto__` cannot be an attribute/,
    );
    expect(await refusal('/flag stickiness name:unsticky')).toMatch(/^Give by \(userId, guildId/);
    expect(held()).toMatchObject({ version: 1, flag: { stickiness: 'userId' } });
  });
});

describe('/flag threshold', () => {
  it('sets the error threshold and its window, changes either, and clears it', async () => {
    const held = await flag('guarded');
    const set = await reply('/flag threshold name:guarded errors:10 window:5m');
    expect(field(set, 'Changes')).toBe('• error threshold: none → 10 errors in 5 min');
    expect(field(set, '⚠️ Warning')).toMatch(/The flag is off now/);
    expect(field(await reply('/flag view name:guarded'), 'Automatic kill')).toBe('at 10 errors in 5 min');
    await reply('/flag threshold name:guarded window:30s');
    expect(held()?.flag.errorThreshold).toEqual({ errors: 10, windowMs: 30_000 });
    const cleared = await reply('/flag threshold name:guarded clear:true');
    expect(field(cleared, 'Changes')).toBe('• error threshold: 10 errors in 30 s → none');
    expect(held()?.flag.errorThreshold).toBeUndefined();
  });

  it('refuses a window out of range or unreadable, a half threshold, and changes nothing', async () => {
    const held = await flag('unguarded');
    expect(await refusal('/flag threshold name:unguarded errors:5 window:2d')).toBe(
      'window: 2d is out of range; errors are counted over 1s to 24h.',
    );
    expect(await refusal('/flag threshold name:unguarded errors:5 window:500ms')).toMatch(/out of range/);
    expect(await refusal('/flag threshold name:unguarded errors:5 window:soon')).toBe(
      'window: "soon" is not a duration. Use a number and a unit: 30s, 5m, 1h.',
    );
    expect(await refusal('/flag threshold name:unguarded errors:5')).toMatch(
      /unguarded has no error threshold yet: give both errors and window/,
    );
    await expect(f.bot.session().run('/flag threshold name:unguarded errors:0 window:1m')).rejects.toThrow(
      'errors: 0 is less than 1',
    );
    expect(held()).toMatchObject({ version: 1 });
    expect(held()?.flag.errorThreshold).toBeUndefined();
  });
});

describe('/flag condition on a name no context holds', () => {
  it('refuses __proto__, constructor and prototype as an attribute, saying why', async () => {
    const held = await flag('proto-cond');
    expect(await refusal('/flag condition name:proto-cond attribute:__proto__ operator:in values:x')).toBe(
      'proto-cond was not changed:\n• conditions[0].attribute: `__proto__` cannot be an attribute: no application can pass __proto__, constructor, prototype as one, so nothing could ever match',
    );
    expect(
      await refusal('/flag condition name:proto-cond attribute:constructor operator:not_in values:x'),
    ).toMatch(/`constructor` cannot be an attribute/);
    expect(held()).toMatchObject({ version: 1, flag: { conditions: [] } });
  });
});

describe('/flag view and schedule wording', () => {
  it('says whether the flag is enabled or killed, never "Kill switch: on"', async () => {
    await flag('said-plainly');
    await reply('/flag on name:said-plainly');
    const on = await reply('/flag view name:said-plainly');
    expect(on?.fields?.map((x) => x.name)).not.toContain('Kill switch');
    expect(field(on, 'Enabled')).toBe('yes (not killed)');
    // Killed as the automatic kill does (an off in production would ask to confirm first).
    await f.bot.ctx.flags.kill('said-plainly', 'too many errors');
    expect(field(await reply('/flag view name:said-plainly'), 'Enabled')).toBe(
      'no (killed: off for everyone)',
    );
  });

  it('reads start and end as /config set at: does, in SCHEDULE_TIMEZONE; ISO with a zone as typed', async () => {
    const { bot } = await freshBot('flag_schedule_zone');
    const s = bot.session();
    await s.run('/config set setting:SCHEDULE_TIMEZONE value:Europe/Paris');
    await s.run('/flag create name:winter-sale description:Sale type:release');
    const [, set] = await s.run(
      '/flag schedule name:winter-sale start:"2026-12-01 10:00" end:2027-01-06T23:00:00Z',
    );
    expect(field(set?.embeds[0], 'Changes')).toBe(
      '• start: none → 2026-12-01T09:00:00Z\n• end: none → 2027-01-06T23:00:00Z',
    );
    expect(bot.ctx.flags.get('winter-sale')?.flag).toMatchObject({
      start: '2026-12-01T09:00:00Z',
      end: '2027-01-06T23:00:00Z',
    });
    const [, refused] = await s.run('/flag schedule name:winter-sale end:"whenever it suits"');
    expect(displayed(refused?.embeds[0]?.description)).toBe(
      'end: "whenever it suits" is not a time I can read. Use 2026-12-01 10:00, tomorrow 09:00 or 2026-12-01T09:00:00Z (read in Europe/Paris), or none to remove it.',
    );
    expect(bot.ctx.flags.get('winter-sale')?.version).toBe(2);
  });
});
