import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { as, displayed, HOME_GUILD } from '../helpers/discord.js';
import { freshBot } from '../helpers/fresh.js';

type Embed = { title?: string; description?: string; fields?: { name: string; value: string }[] };
const field = (embed: Embed | undefined, name: string) =>
  displayed(embed?.fields?.find((f) => f.name === name)?.value);

describe('/flag create, on, rollout, target, condition, view', () => {
  it('builds a flag step by step, each reply showing what changed and the version, and view shows it all', async () => {
    const { db, bot } = await freshBot('flag_edit');
    const s = bot.session();

    const [defer, created] = await s.run(
      '/flag create name:new-checkout description:"The new checkout" type:release',
    );
    expect(defer?.kind).toBe('defer');
    expect(created?.embeds[0]?.title).toBe('Created new-checkout');
    expect(field(created?.embeds[0], 'Version')).toBe('0 → 1');
    expect(bot.ctx.flags.get('new-checkout')?.flag.owner).toBe('admin');

    const [, on] = await s.run('/flag on name:new-checkout reason:"launch"');
    expect(on?.embeds[0]?.title).toBe('Turned on new-checkout');
    expect(field(on?.embeds[0], 'Changes')).toBe('• on: off → on\n• environments: +production');
    expect(field(on?.embeds[0], 'Version')).toBe('1 → 2');
    expect(field(on?.embeds[0], '⚠️ Warning')).toMatch(/on in no environment[\s\S]*production, was added/);

    const [, rollout] = await s.run('/flag rollout name:new-checkout percent:12.5');
    expect(field(rollout?.embeds[0], 'Changes')).toBe('• rollout: 100% → 12.5%');

    const [, target] = await s.run(
      `/flag target name:new-checkout list:include kind:role id:<@&${'7'.repeat(18)}>`,
    );
    expect(field(target?.embeds[0], 'Changes')).toBe(`• include roles: +${'7'.repeat(18)}`);

    const [, cond] = await s.run(
      '/flag condition name:new-checkout attribute:plan operator:in values:"pro, team"',
    );
    expect(field(cond?.embeds[0], 'Changes')).toBe('• conditions: +plan in pro, team');
    expect(field(cond?.embeds[0], 'Version')).toBe('4 → 5');

    const [, view] = await s.run('/flag view name:new-checkout');
    const embed = view?.embeds[0];
    expect(embed?.title).toBe('new-checkout');
    expect(field(embed, 'Version')).toBe('5');
    expect(field(embed, 'Environments')).toBe('production');
    expect(field(embed, 'Rollout')).toBe('12.5% by userId');
    expect(field(embed, 'Targets')).toBe(`include roles: <@&${'7'.repeat(18)}>`);
    expect(field(embed, 'Conditions (all must hold)')).toBe('1. plan in pro, team');
    expect(field(embed, 'Last changed')).toMatch(/by <@100000000000000001> \(admin\)$/);
    expect(field(embed, 'Evaluations, last 24 h')).toBe('none');

    const audit = await bindModels(db.conn)
      .ConfigAudit.find({ key: 'flag:new-checkout', status: 'success' })
      .sort({ version: 1 })
      .lean();
    expect(audit.map((a) => a.version)).toEqual([1, 2, 3, 4, 5]);
    expect(audit[1]).toMatchObject({
      reason: 'launch',
      actor: { id: as.admin().user.id },
      guildId: HOME_GUILD,
    });
    expect(bot.discord.violations).toEqual([]);
  });

  it('removes a target, a condition by its number, and sets and clears a schedule', async () => {
    const { bot } = await freshBot('flag_edit_remove');
    const s = bot.session();
    await s.run('/flag create name:beta description:Beta type:experiment owner:growth');
    await s.run('/flag condition name:beta attribute:plan operator:equals values:pro');
    await s.run('/flag condition name:beta attribute:app.version operator:semver_gt values:2.0.0');
    await s.run(`/flag target name:beta list:exclude kind:user id:${'5'.repeat(18)}`);
    const [, removed] = await s.run('/flag condition name:beta remove:1');
    expect(field(removed?.embeds[0], 'Changes')).toBe('• conditions: -plan equals pro');
    const [, untarget] = await s.run(
      `/flag target name:beta list:exclude kind:user id:${'5'.repeat(18)} action:remove`,
    );
    expect(field(untarget?.embeds[0], 'Changes')).toBe(`• exclude users: -${'5'.repeat(18)}`);
    const [, sched] = await s.run(
      '/flag schedule name:beta start:2020-01-01T00:00:00Z end:2999-01-01T00:00:00Z',
    );
    expect(field(sched?.embeds[0], 'Changes')).toBe(
      '• start: none → 2020-01-01T00:00:00Z\n• end: none → 2999-01-01T00:00:00Z',
    );
    const [, cleared] = await s.run('/flag schedule name:beta start:none');
    expect(field(cleared?.embeds[0], 'Changes')).toBe('• start: 2020-01-01T00:00:00Z → none');
    expect(bot.ctx.flags.get('beta')?.flag).toMatchObject({
      owner: 'growth',
      conditions: [{ attribute: 'app.version', operator: 'semver_gt', values: ['2.0.0'] }],
      exclude: { users: [] },
      end: '2999-01-01T00:00:00Z',
    });
    expect(bot.ctx.flags.get('beta')?.flag.start).toBeUndefined();
  });

  it('adds an environment without touching the kill switch, and says the switch is still off', async () => {
    const { bot } = await freshBot('flag_edit_env');
    const s = bot.session();
    await s.run('/flag create name:dark-mode description:"Dark mode" type:release');
    const [, on] = await s.run('/flag on name:dark-mode env:staging');
    expect(on?.embeds[0]?.title).toBe('Turned on in staging: dark-mode');
    expect(field(on?.embeds[0], 'Changes')).toBe('• environments: +staging');
    expect(field(on?.embeds[0], '⚠️ Warning')).toMatch(/kill switch is off, so it stays off everywhere/);
    expect(bot.ctx.flags.get('dark-mode')?.flag).toMatchObject({ enabled: false, environments: ['staging'] });
  });
});
