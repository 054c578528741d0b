import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { as, displayed, useBot } from '../helpers/discord.js';

const f = useBot('discord_tokens');

const TOKEN = /cfgbot_[0-9a-f]{10}_[A-Za-z0-9_-]{43}/;

type View = Awaited<ReturnType<ReturnType<typeof f.bot.session>['run']>>[number];
const fields = (reply: View | undefined) =>
  Object.fromEntries((reply?.embeds[0]?.fields ?? []).map((x) => [displayed(x.name), displayed(x.value)]));
const audit = (filter: object) => bindModels(f.db.conn).ConfigAudit.find(filter).lean();

describe('/config token', () => {
  it('create shows a cfgbot_ token once, ephemeral, with how to use it; list never shows it', async () => {
    const admin = f.bot.session(as.admin());
    const from = f.bot.discord.calls.length;
    const replies = await admin.run('/config token create name:ci-read access:read scope:env:production');
    expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
    expect(replies[0]?.flags).toBe(64);
    const embed = replies[1]?.embeds[0];
    expect(displayed(embed?.title)).toBe('Token ci-read created');
    const token = TOKEN.exec(embed?.description ?? '')?.[0] ?? '';
    expect(embed?.description).toContain(`\`\`\`\n${token}\n\`\`\``);
    expect(embed?.description).toMatch(/Shown this once only.*`Authorization: Bearer <token>`/);
    expect(fields(replies[1])).toEqual({
      Access: 'read',
      Scope: 'env:production',
      'Sensitive values': 'masked',
      Expires: 'never (until revoked)',
    });
    expect(await f.bot.ctx.tokens.verify(token)).toMatchObject({ name: 'ci-read', scope: 'env:production' });

    f.bot.ctx.tokens.touch((await f.bot.ctx.tokens.verify(token))?.id ?? '');
    await f.bot.ctx.tokens.settle();
    const list = (await admin.run('/config token list')).at(-1);
    expect(displayed(list?.embeds[0]?.title)).toBe('API tokens');
    expect(fields(list)['ci-read']).toMatch(
      /^read · env:production · sensitive values masked\nCreated <t:\d+:f> .* by <@100000000000000001> \(admin\)\nLast used <t:\d+:f>/,
    );
    // The token text went out once, in the reply to create, and nowhere else.
    const sent = f.bot.discord.calls.slice(from).filter((c) => JSON.stringify(c.body ?? {}).includes(token));
    expect(sent).toHaveLength(1);
    expect(JSON.stringify(list)).not.toMatch(/cfgbot_/);
  });

  it('revoke refuses the token from then on and frees its name; autocomplete offers active names', async () => {
    const admin = f.bot.session(as.admin());
    const created = (await admin.run('/config token create name:to-revoke access:write sensitive:true')).at(
      -1,
    );
    const token = TOKEN.exec(created?.embeds[0]?.description ?? '')?.[0];
    expect(fields(created)).toMatchObject({
      Access: 'write',
      Scope: 'every scope',
      'Sensitive values': 'in clear',
    });

    const offered = await admin.complete('/config token revoke name:to-re');
    expect(offered.map((c) => c.value)).toEqual(['to-revoke']);
    expect(await f.bot.session(as.member()).complete('/config token revoke name:to')).toEqual([]);

    const revoked = (await admin.run('/config token revoke name:to-revoke')).at(-1);
    expect(displayed(revoked?.embeds[0]?.title)).toBe('Token to-revoke revoked');
    expect(await f.bot.ctx.tokens.verify(token)).toBeUndefined();
    const list = (await admin.run('/config token list')).at(-1);
    expect(Object.keys(fields(list))).not.toContain('to-revoke');

    const again = (await admin.run('/config token revoke name:to-revoke')).at(-1);
    expect(again?.embeds[0]?.title).toBe('Not done');
    expect(displayed(again?.embeds[0]?.description)).toBe('No active token is named to-revoke.');
  });

  it('refuses a bad name with what a name is, and creates nothing', async () => {
    const before = (await f.bot.ctx.tokens.list()).length;
    const replies = await f.bot.session(as.admin()).run('/config token create name:"Bad Name" access:read');
    expect(replies.at(-1)?.embeds[0]?.title).toBe('Not done');
    expect(displayed(replies.at(-1)?.embeds[0]?.description)).toBe(
      '"Bad Name" is not a token name: use 2-32 lower-case letters, digits, - or _ (e.g. ci-deploy).',
    );
    expect(JSON.stringify(replies)).not.toMatch(/cfgbot_/);
    expect((await f.bot.ctx.tokens.list()).length).toBe(before);
    expect(await audit({ key: 'token:Bad Name', action: 'token-create' })).toEqual([
      expect.objectContaining({ status: 'failed', error: expect.stringMatching(/is not a token name/) }),
    ]);
  });

  it('refuses members every token subcommand before anything is acknowledged, each audited', async () => {
    const member = f.bot.session(as.member());
    const before = (await f.bot.ctx.tokens.list()).length;
    for (const line of [
      '/config token create name:sneaky access:write',
      '/config token list',
      '/config token revoke name:ci-read',
    ]) {
      const replies = await member.run(line);
      expect(
        replies.map((r) => r.kind),
        line,
      ).toEqual(['reply']);
      expect(replies[0]?.embeds[0]?.title).toBe('Not allowed');
      // What is refused is token management, not a change of configuration (a list changes nothing).
      expect(replies[0]?.embeds[0]?.description, line).toBe(
        'Managing API tokens needs the Administrator permission or one of the configured admin roles.',
      );
    }
    expect((await f.bot.ctx.tokens.list()).length).toBe(before);
    const rows = await audit({ 'actor.id': as.member().user.id, status: 'denied' });
    expect(rows.map((r) => [r.action, r.key]).sort()).toEqual([
      ['token-create', 'token:sneaky'],
      ['token-list', 'token:*'],
      ['token-revoke', 'token:ci-read'],
    ]);
  });

  it('audits create, list and revoke by name, and no audit row holds a token or its hash', async () => {
    const admin = f.bot.session(as.admin());
    const created = (await admin.run('/config token create name:audited access:read')).at(-1);
    const token = TOKEN.exec(created?.embeds[0]?.description ?? '')?.[0] ?? '';
    const list = (await admin.run('/config token list')).at(-1);
    expect(fields(list).audited).toMatch(/\nLast used never$/);
    await admin.run('/config token revoke name:audited');
    const rows = await audit({ key: 'token:audited', status: 'success' });
    expect(rows.map((r) => r.action).sort()).toEqual(['token-create', 'token-revoke']);
    expect(rows.find((r) => r.action === 'token-create')).toMatchObject({
      actor: { id: as.admin().user.id, tag: 'admin' },
      newValue: { access: 'read', sensitive: false, scope: 'global' },
    });
    expect(await audit({ key: 'token:*', action: 'token-list', status: 'success' })).not.toEqual([]);

    const tokenDoc = await f.db.conn.collection('api_tokens').findOne({ name: 'audited' });
    const everything = JSON.stringify(await audit({}));
    expect(everything).not.toContain(token.slice(-43));
    expect(everything).not.toContain(String(tokenDoc?.hash));
  });

  it('refuses a second active token of the same name, saying so', async () => {
    const admin = f.bot.session(as.admin());
    await admin.run('/config token create name:twice access:read');
    const dup = (await admin.run('/config token create name:twice access:write')).at(-1);
    expect(dup?.embeds[0]?.title).toBe('Not done');
    expect(displayed(dup?.embeds[0]?.description)).toMatch(/^A token named twice exists already/);
  });
});

describe('the console sends a subcommand of a group as Discord does', () => {
  it.each([
    ['/config token', '/config token needs a subcommand: create, list, revoke'],
    ['/config token purge', '/config token has no subcommand purge; it has: create, list, revoke'],
    ['/config token create name:ci access:admin', 'access: "admin" is not one of read, write'],
    ['/config token create name:ci', 'Missing required option: access'],
    ['/config view token create', 'Expected name:value, got "create"'],
    ['/config view token', '/config view is not a group; "token" is not an option'],
  ])('refuses %s before the bot sees it', async (line, message) => {
    const from = f.bot.discord.calls.length;
    await expect(f.bot.session().run(line)).rejects.toThrow(message);
    expect(f.bot.discord.calls.length).toBe(from);
  });
});
