import { describe, expect, it } from 'vitest';
import { actor } from '../helpers/db.js';
import { as, displayed, useBot } from '../helpers/discord.js';

const f = useBot('discord_flag_evaluate');

const BETA_ROLE = '940000000000000001';
const TESTER = '100000000000000077';

type Embed = { title?: string; description?: string; fields?: { name: string; value: string }[] };
const field = (embed: Embed | undefined, name: string) =>
  displayed(embed?.fields?.find((x) => x.name === name)?.value);

/** An admin who knows a tester holding the beta role. */
const session = () =>
  f.bot.session({ ...as.admin(), members: { [TESTER]: { username: 'tester', roles: [BETA_ROLE] } } });

describe('/flag evaluate', () => {
  it('explains that a member is on through one of their roles', async () => {
    const flags = f.bot.ctx.flags;
    await flags.create(
      {
        name: 'beta-ui',
        description: 'Beta UI',
        type: 'experiment',
        owner: 'ui',
        enabled: true,
        environments: ['production'],
        rollout: 0,
        include: { users: [], roles: [BETA_ROLE], guilds: [] },
      },
      actor(),
    );
    const [reply] = await session().run(`/flag evaluate name:beta-ui member:<@${TESTER}>`);
    expect(reply?.kind).toBe('reply');
    const embed = reply?.embeds[0];
    expect(embed?.title).toBe('beta-ui is on for tester');
    expect(displayed(embed?.description)).toBe(`role ${BETA_ROLE} is included`);
    expect(field(embed, 'Rule')).toBe('`included`');
    expect(field(embed, 'Roles')).toBe(`<@&${BETA_ROLE}>`);

    // The admin has no role: the 0% rollout decides.
    const [self] = await session().run(`/flag evaluate name:beta-ui member:${as.admin().user.id}`);
    expect(self?.embeds[0]?.title).toBe('beta-ui is off for admin');
    expect(displayed(self?.embeds[0]?.description)).toMatch(/^out of the rollout: bucket \d+ > 0%$/);
  });

  it('uses the attributes given, and names the condition that failed', async () => {
    await f.bot.ctx.flags.create(
      {
        name: 'pro-only',
        description: 'Pro',
        type: 'permission',
        owner: 'billing',
        enabled: true,
        environments: ['production'],
        conditions: [{ attribute: 'plan', operator: 'in', values: ['pro', 'team'] }],
      },
      actor(),
    );
    const [free] = await session().run(
      `/flag evaluate name:pro-only member:<@${TESTER}> attributes:plan=free`,
    );
    expect(displayed(free?.embeds[0]?.description)).toBe(
      'condition 1 failed: plan in pro, team (plan is `free`)',
    );
    const [pro] = await session().run(
      `/flag evaluate name:pro-only member:<@${TESTER}> attributes:"plan=pro, country=FR"`,
    );
    expect(pro?.embeds[0]?.title).toBe('pro-only is on for tester');
    expect(field(pro?.embeds[0], 'Attributes')).toBe('plan=pro, country=FR');
    const [staging] = await session().run(`/flag evaluate name:pro-only member:<@${TESTER}> env:staging`);
    expect(displayed(staging?.embeds[0]?.description)).toBe('not on in `staging`; on in production');
  });

  it('refuses malformed attributes, naming each', async () => {
    await f.bot.ctx.flags.create({ name: 'attrs', description: 'A', type: 'ops', owner: 'ops' }, actor());
    const [reply] = await session().run(`/flag evaluate name:attrs member:<@${TESTER}> attributes:"plan,=x"`);
    expect(reply?.embeds[0]?.title).toBe('Not done');
    expect(displayed(reply?.embeds[0]?.description)).toBe(
      'attributes: plan is not key=value with a valid key; =x is not key=value with a valid key. Write them as key=value,key=value (plan=pro,app.version=2.1.0).',
    );
  });
});
