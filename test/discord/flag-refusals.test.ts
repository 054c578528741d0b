import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { actor } from '../helpers/db.js';
import { as, displayed, useBot } from '../helpers/discord.js';

const f = useBot('discord_flag_refusals');

/** A flag of the calling test's own, version 1. */
async function flag(name: string) {
  await f.bot.ctx.flags.create({ name, description: 'A flag', type: 'release', owner: 'team' }, actor());
  return () => f.bot.ctx.flags.get(name)?.version;
}

const refusal = async (line: string) => {
  const replies = await f.bot.session().run(line);
  const last = replies.at(-1);
  expect(last?.embeds[0]?.title).toBe('Not done');
  return displayed(last?.embeds[0]?.description);
};

const failed = (key: string) => bindModels(f.db.conn).ConfigAudit.find({ key, status: 'failed' }).lean();

describe('/flag refuses with clear messages and changes nothing', () => {
  it('a name that is not lower-kebab-case', async () => {
    expect(await refusal('/flag create name:Bad_Name description:x type:ops')).toMatch(
      /Bad_Name is not a flag name: use lower-kebab-case/,
    );
    expect(f.bot.ctx.flags.list().map((s) => s.flag.name)).not.toContain('bad_name');
  });

  it('an unknown flag, suggesting the nearest name, and audits the attempt', async () => {
    await flag('new-checkout');
    expect(await refusal('/flag on name:new-chekout')).toBe(
      'No flag is named new-chekout. Did you mean new-checkout?',
    );
    expect(await refusal('/flag view name:new-chekout')).toMatch(/Did you mean new-checkout\?/);
    expect(await failed('flag:new-chekout')).toHaveLength(1);
    expect(f.bot.ctx.flags.get('new-checkout')?.flag.enabled).toBe(false);
  });

  it('a rollout with more than two decimals, and one over 100 before the bot sees it', async () => {
    const version = await flag('pct');
    expect(await refusal('/flag rollout name:pct percent:12.345')).toMatch(
      /pct was not changed:\n• rollout: must have at most two decimals/,
    );
    await expect(f.bot.session().run('/flag rollout name:pct percent:120')).rejects.toThrow(
      'percent: 120 is more than 100',
    );
    expect(version()).toBe(1);
    expect((await failed('flag:pct')).map((r) => r.action)).toEqual(['set']);
  });

  it('condition values the operator cannot compare, naming each', async () => {
    const version = await flag('cond');
    expect(await refusal('/flag condition name:cond attribute:age operator:lt values:abc')).toMatch(
      /conditions\[0\]\.values\[0\]: `abc` is not a number \(needed by lt\)/,
    );
    // A one-value operator takes the text whole (a regular expression or a name may hold commas).
    expect(await refusal('/flag condition name:cond attribute:age operator:lt values:"1, 2"')).toMatch(
      /`1, 2` is not a number \(needed by lt\)/,
    );
    expect(await refusal('/flag condition name:cond attribute:plan')).toMatch(
      /needs attribute, operator and values/,
    );
    expect(await refusal('/flag condition name:cond remove:1 clear:true')).toMatch(/Give either attribute/);
    expect(await refusal('/flag condition name:cond remove:2')).toMatch(/cond has no conditions/);
    expect(version()).toBe(1);
    expect(await failed('flag:cond')).toHaveLength(5);
  });

  it('a target id that is not a Discord id, and a prerequisite cycle', async () => {
    await flag('cyc-a');
    await flag('cyc-b');
    expect(await refusal('/flag target name:cyc-a list:include kind:user id:12ab')).toBe(
      '12ab is not a Discord user id (15 to 21 digits, or a mention).',
    );
    await f.bot.session().run('/flag require name:cyc-a prerequisite:cyc-b');
    expect(f.bot.ctx.flags.get('cyc-a')?.flag.prerequisites).toEqual(['cyc-b']);
    expect(await refusal('/flag require name:cyc-b prerequisite:cyc-a')).toMatch(
      /cyc-b cannot require cyc-a: cyc-b → cyc-a → cyc-b would be a cycle/,
    );
    expect(f.bot.ctx.flags.get('cyc-b')?.flag.prerequisites).toEqual([]);
  });

  it('a member who is not an admin may read but not write, and the refusal is audited with the flag', async () => {
    const version = await flag('guarded');
    const member = f.bot.session(as.member());
    const [view] = await member.run('/flag view name:guarded');
    expect(view?.kind).toBe('defer');
    const [denied] = await member.run('/flag on name:guarded');
    expect(denied?.kind).toBe('reply');
    expect(denied?.embeds[0]?.title).toBe('Not allowed');
    expect(version()).toBe(1);
    const rows = await bindModels(f.db.conn)
      .ConfigAudit.find({ status: 'denied', 'actor.id': as.member().user.id })
      .lean();
    expect(rows).toEqual([expect.objectContaining({ key: 'flag:guarded', action: 'set' })]);
  });

  it("Unleash's operators: a pattern RE2 cannot run, any case on numbers; a valid one is kept whole", async () => {
    const version = await flag('ops');
    expect(
      await refusal('/flag condition name:ops attribute:email operator:regex values:"^(?=a)b$"'),
    ).toMatch(
      /ops was not changed:\n• conditions\[0\]\.values\[0\]: `\^\(\?=a\)b\$` is not a regular expression in RE2's syntax/,
    );
    expect(
      await refusal('/flag condition name:ops attribute:seats operator:gte values:10 case_insensitive:true'),
    ).toMatch(/conditions\[0\]\.caseInsensitive: applies to text operators only/);
    expect(version()).toBe(1);
    // A regular expression holds commas: it is one value, not split as lists are.
    const [, added] = await f.bot
      .session()
      .run(
        '/flag condition name:ops attribute:email operator:regex values:"^[a-z]{1,3}@Example" inverted:true case_insensitive:true',
      );
    expect(displayed(added?.embeds[0]?.fields?.find((x) => x.name === 'Changes')?.value)).toBe(
      '• conditions: +not (email regex ^[a-z]{1,3}@Example, any case)',
    );
    expect(f.bot.ctx.flags.get('ops')?.flag.conditions).toEqual([
      {
        attribute: 'email',
        operator: 'regex',
        values: ['^[a-z]{1,3}@Example'],
        inverted: true,
        caseInsensitive: true,
      },
    ]);
  });

  it('/flag override pins a variant, shows it, unpins it; an unknown variant or attribute is refused', async () => {
    const version = await flag('pins');
    const s = f.bot.session();
    await s.run('/flag variants name:pins weights:"a:500, b:500"');
    const [, pinned] = await s.run(
      '/flag override name:pins variant:b attribute:plan values:"enterprise, team"',
    );
    expect(displayed(pinned?.embeds[0]?.fields?.find((x) => x.name === 'Changes')?.value)).toMatch(
      /\+b \(500, pinned plan=enterprise\|team\)/,
    );
    const [, view] = await s.run('/flag view name:pins');
    expect(displayed(view?.embeds[0]?.fields?.find((x) => x.name === 'Variants')?.value)).toBe(
      'a (50%)\nb (50%); pinned to plan enterprise, team',
    );
    expect(f.bot.ctx.flags.get('pins')?.flag.variants[1]?.overrides).toEqual([
      { attribute: 'plan', values: ['enterprise', 'team'] },
    ]);
    expect(await refusal('/flag override name:pins variant:zz attribute:plan values:x')).toBe(
      'zz is not a variant of pins (its variants: a, b).',
    );
    expect(await refusal('/flag override name:pins variant:a attribute:plan values:team')).toMatch(
      /variants\[1\]\.overrides\[0\]: `plan=team` pins both a and b: a context gets one variant/,
    );
    expect(await refusal('/flag override name:pins variant:b clear:true attribute:tenant')).toMatch(
      /b has no override on tenant \(it has: plan\)/,
    );
    await s.run('/flag override name:pins variant:b clear:true');
    expect(f.bot.ctx.flags.get('pins')?.flag.variants[1]).toEqual({ name: 'b', weight: 500 });
    expect(version()).toBe(4);
  });

  it('a server outside the allowlist cannot even list flags', async () => {
    const [reply] = await f.bot.session(as.foreignAdmin()).run('/flag list');
    expect(reply?.embeds[0]?.description).toMatch(/This server is not allowed/);
    const row = await bindModels(f.db.conn)
      .ConfigAudit.findOne({ status: 'denied', 'actor.id': as.foreignAdmin().user.id })
      .lean();
    expect(row).toMatchObject({ key: 'flag:*', action: 'list' });
  });
});
