import { describe, expect, it, onTestFinished } from 'vitest';
import { panelLogins } from '../../src/app/panel.js';
import { bindModels } from '../../src/storage/config-models.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { as, CHANNEL, displayed, HOME_GUILD, startBot, useBot, type Bot } from '../helpers/discord.js';
import { loginWithLink, redeemLink } from '../helpers/panel.js';

const LINK = /https?:\/\/[^\s)]+\/panel\/login\/[A-Za-z0-9_-]{43}/;

/** An offline bot over the database of a running panel, making links to it (as `npm start` with HTTP_PORT). */
async function botWithPanel(api: TestApi): Promise<Bot> {
  const bot = await startBot(api.runtime.config, {}, undefined, {
    logins: panelLogins(api.runtime, api.env),
    url: api.url,
  });
  onTestFinished(() => bot.close());
  return bot;
}

describe('/config panel', () => {
  it('gives an admin a private link that logs in once with write access, audited as panel-login', async () => {
    const api = await startTestApi('panel_cmd_admin');
    const bot = await botWithPanel(api);
    const replies = await bot.session(as.admin()).run('/config panel');
    expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
    expect(replies[0]?.flags).toBe(64);
    const text = replies[1]?.content ?? '';
    expect(text).toMatch(/^Your login link to the web panel \(admin\): /);
    expect(text).toMatch(/It logs in once, until <t:\d+:T>\. It logs in as you: do not share it\.$/);
    const link = LINK.exec(text)?.[0] ?? '';
    expect(link.startsWith(`${api.url}/panel/login/`)).toBe(true);

    const client = await loginWithLink(api, link);
    expect(client.session).toMatchObject({
      user: { id: as.admin().user.id, tag: 'admin' },
      guildId: HOME_GUILD,
      access: 'write',
      ownScope: null,
      via: 'link',
    });
    expect(await client.page('/panel')).toMatch(/admin <small>\(admin\)<\/small>/);
    expect((await redeemLink(link)).status).toBe(410);

    const rows = await bindModels(api.runtime.config.conn).ConfigAudit.find({ action: 'panel-login' }).lean();
    expect(rows).toEqual([
      expect.objectContaining({
        key: '*',
        status: 'success',
        newValue: 'write',
        actor: { id: as.admin().user.id, tag: 'admin' },
        guildId: HOME_GUILD,
        channelId: CHANNEL,
      }),
    ]);
  });

  it('gives a member a read-only link', async () => {
    const api = await startTestApi('panel_cmd_member');
    const bot = await botWithPanel(api);
    const replies = await bot.session(as.member()).run('/config panel');
    expect(replies[0]?.flags).toBe(64);
    const text = replies.at(-1)?.content ?? '';
    expect(text).toMatch(/^Your login link to the web panel \(read only\): /);
    const client = await loginWithLink(api, LINK.exec(text)?.[0] ?? '');
    expect(client.session).toMatchObject({ user: { tag: 'member' }, access: 'read' });
    expect(await client.page('/panel')).toMatch(/member <small>\(read only\)<\/small>/);
    const rows = await bindModels(api.runtime.config.conn).ConfigAudit.find({ action: 'panel-login' }).lean();
    expect(rows).toEqual([expect.objectContaining({ status: 'success', newValue: 'read' })]);
  });
});

describe('/config panel without a panel', () => {
  const f = useBot('panel_cmd_none');

  it('says the bot serves no panel because HTTP_PORT is not set, and makes no link', async () => {
    const replies = await f.bot.session(as.admin()).run('/config panel');
    expect(replies[0]?.flags).toBe(64);
    const embed = replies.at(-1)?.embeds[0];
    expect(displayed(embed?.description)).toBe(
      'This bot serves no web panel: its HTTP_PORT is not set. Set it (and PANEL_URL when browsers reach the bot under another address), then restart the bot.',
    );
    expect(JSON.stringify(replies)).not.toMatch(/\/panel\/login\//);
    expect(await f.db.conn.collection('panel_login_links').countDocuments()).toBe(0);
  });
});
