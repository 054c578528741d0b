import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { as, CHANNEL, HOME_GUILD, OTHER_GUILD, useBot } from '../helpers/discord.js';

const f = useBot('discord_permissions');

const deniedRows = (userId: string) =>
  bindModels(f.db.conn).ConfigAudit.find({ status: 'denied', 'actor.id': userId }).lean();

describe('who may do what', () => {
  it('a member may read but not write, and the refusal is audited with who and where', async () => {
    const member = f.bot.session(as.member());
    const [view] = await member.run('/config view setting:LOG_LEVEL');
    expect(view?.embeds[0]?.title).toBe('LOG_LEVEL');

    const replies = await member.run('/config set setting:LOG_LEVEL value:debug');
    expect(replies).toHaveLength(1);
    expect(replies[0]?.kind).toBe('reply');
    expect(replies[0]?.flags).toBe(64);
    expect(replies[0]?.embeds[0]?.title).toBe('Not allowed');
    expect(replies[0]?.embeds[0]?.description).toMatch(
      /needs the Administrator permission or one of the configured admin roles/,
    );
    expect(f.svc.get('LOG_LEVEL')).toBe('info');
    const [row] = await deniedRows(as.member().user.id);
    expect(row).toMatchObject({
      key: 'LOG_LEVEL',
      action: 'set',
      guildId: HOME_GUILD,
      channelId: CHANNEL,
      actor: { tag: 'member' },
    });

    for (const line of ['/config rollback setting:LOG_LEVEL version:1', '/config reset setting:LOG_LEVEL']) {
      const [r] = await member.run(line);
      expect(r?.embeds[0]?.title).toBe('Not allowed');
    }
    expect((await deniedRows(as.member().user.id)).map((r) => r.action).sort()).toEqual([
      'reset',
      'rollback',
      'set',
    ]);
  });

  // Each writer sets a value no other test sets, so neither depends on the other having run.
  it('a member with a configured admin role may write', async () => {
    const [, reply] = await f.bot
      .session(as.roleAdmin())
      .run('/config set setting:IMMEDIATE_EXPORT_BUFFER value:41');
    expect(reply?.embeds[0]?.title).toBe('Updated IMMEDIATE_EXPORT_BUFFER');
    expect(f.svc.get('IMMEDIATE_EXPORT_BUFFER')).toBe(41);
  });

  it('an Administrator may write', async () => {
    const [, reply] = await f.bot.session(as.admin()).run('/config set setting:MAX_BATCH_SIZE value:432');
    expect(reply?.embeds[0]?.title).toBe('Updated MAX_BATCH_SIZE');
    expect(f.svc.get('MAX_BATCH_SIZE')).toBe(432);
  });

  it('an administrator of a server not on the allowlist may not even read, and is audited', async () => {
    const foreign = f.bot.session(as.foreignAdmin());
    const [view] = await foreign.run('/config view setting:LOG_LEVEL');
    expect(view?.embeds[0]?.description).toMatch(/This server is not allowed/);
    const [set] = await foreign.run('/config set setting:LOG_LEVEL value:debug');
    expect(set?.embeds[0]?.description).toMatch(/This server is not allowed/);
    expect(f.svc.get('LOG_LEVEL')).toBe('info');
    const rows = await deniedRows(as.foreignAdmin().user.id);
    expect(rows.map((r) => r.guildId)).toEqual([OTHER_GUILD, OTHER_GUILD]);
    expect(rows.map((r) => r.error)).toContain(`guild ${OTHER_GUILD} not in allowlist`);
  });

  it('direct messages are refused', async () => {
    const [reply] = await f.bot.session(as.dm()).run('/config view setting:LOG_LEVEL');
    expect(reply?.embeds[0]?.description).toMatch(/only works inside its server/);
  });
});
