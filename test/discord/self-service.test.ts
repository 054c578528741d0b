import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { MEMBER_PERMISSIONS } from '../../src/offline/simulated.js';
import { openService, openTestDb } from '../helpers/db.js';
import { as, displayed, HOME_GUILD, OTHER_GUILD, startBot } from '../helpers/discord.js';
import { onTestFinished } from 'vitest';

/** The shipped registry with AI_CONFIDENCE_THRESHOLD opened to self-service, as docs/keys.md says. */
function selfServiceRegistry() {
  const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
  defs.AI_CONFIDENCE_THRESHOLD = { ...defs.AI_CONFIDENCE_THRESHOLD, guildSelfService: true } as KeyDefinition;
  return buildRegistry(defs);
}

async function botWith(label: string, reg = registry) {
  const db = await openTestDb(label);
  const svc = await openService(db, { registry: reg });
  const bot = await startBot(svc);
  onTestFinished(async () => {
    await bot.close();
    await svc.close();
    await db.drop();
  });
  return { db, svc, bot };
}

const foreignMember = () => ({
  ...as.foreignAdmin(),
  user: { id: '100000000000000006', username: 'foreign_member' },
  permissions: MEMBER_PERMISSIONS,
});

describe('guild self-service', () => {
  it('an Administrator of another server manages a self-service key for that server only, audited', async () => {
    const { db, svc, bot } = await botWith('self_service_on', selfServiceRegistry());
    const foreign = bot.session(as.foreignAdmin());
    const [, set] = await foreign.run('/config set setting:AI_CONFIDENCE_THRESHOLD value:0.7');
    expect(displayed(set?.embeds[0]?.title)).toBe(`Updated AI_CONFIDENCE_THRESHOLD at guild:${OTHER_GUILD}`);
    expect(svc.get('AI_CONFIDENCE_THRESHOLD', { guildId: OTHER_GUILD })).toBe(0.7);
    expect(svc.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.85);

    // A plan of the home server's admins is not shown to another server.
    await svc.timed.schedule('AI_CONFIDENCE_THRESHOLD', '0.95', new Date(Date.now() + 3_600_000), {
      id: '100000000000000001',
      tag: 'admin',
    });
    const [view] = await foreign.run('/config view setting:AI_CONFIDENCE_THRESHOLD');
    expect(displayed(view?.embeds[0]?.title)).toBe(`AI_CONFIDENCE_THRESHOLD · guild:${OTHER_GUILD}`);
    expect(view?.embeds[0]?.fields?.map((x) => x.name)).not.toContain('Pending');

    for (const scope of ['global', 'env:production', `guild:${HOME_GUILD}`]) {
      const replies = await foreign.run(
        `/config set setting:AI_CONFIDENCE_THRESHOLD value:0.6 scope:${scope}`,
      );
      expect(displayed(replies.at(-1)?.embeds[0]?.description), scope).toBe(
        `From this server you can only manage AI_CONFIDENCE_THRESHOLD for this server (scope guild:${OTHER_GUILD}).`,
      );
    }
    // Nothing else: other keys, other subcommands.
    const [other] = await foreign.run('/config set setting:MAX_BATCH_SIZE value:5');
    expect(displayed(other?.embeds[0]?.description)).toMatch(/This server is not allowed/);
    const [list] = await foreign.run('/config list');
    expect(displayed(list?.embeds[0]?.description)).toMatch(/This server is not allowed/);
    // A member who is not an Administrator of that server may not.
    const [member] = await bot
      .session(foreignMember())
      .run('/config set setting:AI_CONFIDENCE_THRESHOLD value:0.6');
    expect(displayed(member?.embeds[0]?.description)).toBe(
      'Changing AI_CONFIDENCE_THRESHOLD for this server needs the Administrator permission of this server.',
    );

    // Reset removes the server's override after confirmation.
    await foreign.run('/config reset setting:AI_CONFIDENCE_THRESHOLD');
    const [, done] = await foreign.press('Confirm');
    expect(displayed(done?.embeds[0]?.title)).toBe(
      `Removed the override of AI_CONFIDENCE_THRESHOLD at guild:${OTHER_GUILD}`,
    );
    expect(svc.get('AI_CONFIDENCE_THRESHOLD', { guildId: OTHER_GUILD })).toBe(0.85);

    const rows = await bindModels(db.conn).ConfigAudit.find({ guildId: OTHER_GUILD }).lean();
    const summary = rows.map((r) => `${r.action} ${r.status}`).sort();
    expect(summary).toEqual(
      [
        'set success',
        'view success',
        'set denied',
        'set denied',
        'set denied',
        'set denied',
        'list denied',
        'set denied',
        'unset success',
      ].sort(),
    );
    expect(rows.filter((r) => r.status === 'success').every((r) => r.scope === `guild:${OTHER_GUILD}`)).toBe(
      true,
    );
  });

  it('an Administrator of another server gets suggestions for what that server may change, and nothing else', async () => {
    const { bot } = await botWith('self_service_complete', selfServiceRegistry());
    const foreign = bot.session(as.foreignAdmin());
    const own = `guild:${OTHER_GUILD}`;
    const values = (choices: { value: string | number }[]) => choices.map((c) => c.value);

    expect(values(await foreign.complete('/config set setting:'))).toEqual(['AI_CONFIDENCE_THRESHOLD']);
    expect(values(await foreign.complete('/config view setting:confidence'))).toEqual([
      'AI_CONFIDENCE_THRESHOLD',
    ]);
    expect(values(await foreign.complete('/config set setting:AI_CONFIDENCE_THRESHOLD scope:'))).toEqual([
      own,
    ]);
    expect(values(await foreign.complete('/config set setting:AI_CONFIDENCE_THRESHOLD value:'))).toEqual([
      '0.85',
    ]);
    await foreign.run('/config set setting:AI_CONFIDENCE_THRESHOLD value:0.7');
    await foreign.run('/config set setting:AI_CONFIDENCE_THRESHOLD value:0.75');
    const versions = await foreign.complete('/config rollback setting:AI_CONFIDENCE_THRESHOLD version:');
    expect(values(versions)).toEqual([2, 1]);
    expect(versions[1]?.name).toMatch(/^v1 · set · 0\.7 · /);
    expect(values(await foreign.complete('/config set setting:AI_CONFIDENCE_THRESHOLD value:'))).toEqual([
      '0.75',
    ]);

    // Nothing about other keys, other subcommands, or for a member who is not an Administrator there.
    expect(await foreign.complete('/config set setting:MAX_BATCH_SIZE value:')).toEqual([]);
    expect(await foreign.complete('/config rollback setting:MAX_BATCH_SIZE version:')).toEqual([]);
    expect(await foreign.complete('/config snapshot view name:')).toEqual([]);
    expect(await foreign.complete('/config token create name:x access:read scope:')).toEqual([]);
    expect(await bot.session(foreignMember()).complete('/config set setting:')).toEqual([]);
    expect(bot.discord.violations).toEqual([]);
  });

  it('with self-service off (as shipped), another server may do nothing', async () => {
    const { svc, bot } = await botWith('self_service_off');
    const [reply] = await bot
      .session(as.foreignAdmin())
      .run('/config set setting:AI_CONFIDENCE_THRESHOLD value:0.7');
    expect(displayed(reply?.embeds[0]?.description)).toMatch(/This server is not allowed/);
    const [view] = await bot.session(as.foreignAdmin()).run('/config view setting:AI_CONFIDENCE_THRESHOLD');
    expect(displayed(view?.embeds[0]?.description)).toMatch(/This server is not allowed/);
    expect(svc.overrideScopes('AI_CONFIDENCE_THRESHOLD')).toEqual([]);
    expect(await bot.session(as.foreignAdmin()).complete('/config set setting:')).toEqual([]);
  });
});
