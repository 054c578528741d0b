import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../helpers/api.js';

// A Discord-shaped OAuth2 server on loopback (token exchange, /users/@me, /users/@me/guilds); the
// panel is pointed at it with DISCORD_OAUTH_URL. Codes name who logs in.
const GUILD = '910000000000000001';
const OTHER = '910000000000000009';
const SECRET = 'test-client-secret-0123456789';
const people: Record<
  string,
  { id: string; username: string; guilds: { id: string; permissions: string }[] }
> = {
  'code-admin': { id: '920000000000000001', username: 'ada', guilds: [{ id: GUILD, permissions: '8' }] },
  'code-member': { id: '920000000000000002', username: 'bob', guilds: [{ id: GUILD, permissions: '1024' }] },
  'code-stranger': { id: '920000000000000003', username: 'eve', guilds: [{ id: OTHER, permissions: '8' }] },
};
let server: Server;
let discordUrl: string;
const exchanges: URLSearchParams[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const who = Object.entries(people).find(([code]) => token === `token-of-${code}`)?.[1];
    if (req.method === 'POST' && req.url === '/api/v10/oauth2/token') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        exchanges.push(form);
        const code = form.get('code') ?? '';
        if (form.get('client_secret') !== SECRET || !people[code])
          return send(400, { error: 'invalid_grant' });
        send(200, { access_token: `token-of-${code}`, token_type: 'Bearer', scope: 'identify guilds' });
      });
      return;
    }
    if (req.url === '/api/v10/users/@me' && who) return send(200, { id: who.id, username: who.username });
    if (req.url === '/api/v10/users/@me/guilds' && who) return send(200, who.guilds);
    send(401, { message: '401: Unauthorized', code: 0 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  discordUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const cookieOf = (res: Response, name: string) =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0]
    ?.slice(name.length + 1);

async function panelWithOAuth(label: string): Promise<TestApi> {
  return startTestApi(label, {
    vars: {
      DISCORD_CLIENT_ID: '930000000000000001',
      DISCORD_CLIENT_SECRET: SECRET,
      DISCORD_OAUTH_URL: discordUrl,
      DISCORD_GUILD_ID: GUILD,
    },
  });
}

/** Starts a login as the browser would: the redirect to Discord and the state cookie. */
async function start(api: TestApi): Promise<{ state: string; authorize: URL }> {
  const res = await fetch(`${api.url}/panel/oauth/start`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const authorize = new URL(res.headers.get('location') ?? '');
  const state = cookieOf(res, 'panel_oauth_state') ?? '';
  expect(state).not.toBe('');
  return { state, authorize };
}

const callback = (api: TestApi, query: string, state: string) =>
  fetch(`${api.url}/panel/oauth/callback?${query}`, {
    redirect: 'manual',
    headers: { cookie: `panel_oauth_state=${state}` },
  });

describe('logging in to the panel with Discord (OAuth2)', () => {
  it('sends the browser to Discord with the scopes, state and redirect, and logs an admin in with write access', async () => {
    const api = await panelWithOAuth('oauth_admin');
    const { state, authorize } = await start(api);
    expect(authorize.origin + authorize.pathname).toBe(`${discordUrl}/oauth2/authorize`);
    expect(authorize.searchParams.get('scope')).toBe('identify guilds');
    expect(authorize.searchParams.get('state')).toBe(state);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${api.url}/panel/oauth/callback`);
    const res = await callback(api, `code=code-admin&state=${state}`, state);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/panel');
    const session = cookieOf(res, 'panel_session') ?? '';
    const page = await fetch(`${api.url}/panel`, { headers: { cookie: `panel_session=${session}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/ada <small>\(admin\)<\/small>/);
    expect(exchanges.at(-1)?.get('redirect_uri')).toBe(`${api.url}/panel/oauth/callback`);
    // Discord's token is read once and kept nowhere.
    const stored = await api.runtime.config.conn.collection('panel_sessions').find({}).toArray();
    expect(JSON.stringify(stored)).not.toContain('token-of-');
    const audit = await api.runtime.config.auditLog({ actorId: people['code-admin']?.id });
    expect(audit[0]).toMatchObject({ action: 'panel-login', status: 'success', channelId: 'panel' });
  });

  it('gives a member of the allowed server read access, and refuses someone of no allowed server', async () => {
    const api = await panelWithOAuth('oauth_member');
    let { state } = await start(api);
    const member = await callback(api, `code=code-member&state=${state}`, state);
    const cookie = `panel_session=${cookieOf(member, 'panel_session') ?? ''}`;
    expect(await (await fetch(`${api.url}/panel`, { headers: { cookie } })).text()).toMatch(
      /bob <small>\(read only\)<\/small>/,
    );
    ({ state } = await start(api));
    const stranger = await callback(api, `code=code-stranger&state=${state}`, state);
    expect(stranger.status).toBe(403);
    expect(await stranger.text()).toContain('eve is not a member of a server this bot serves');
    expect(cookieOf(stranger, 'panel_session')).toBeUndefined();
  });

  it('refuses a state that does not match, a cancelled login and a code Discord refuses, logging nobody in', async () => {
    const api = await panelWithOAuth('oauth_refusals');
    const { state } = await start(api);
    const forged = await callback(api, 'code=code-admin&state=someone-elses', state);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('its state does not match');
    const cancelled = await callback(api, `error=access_denied&state=${state}`, state);
    expect(cancelled.status).toBe(400);
    expect(await cancelled.text()).toContain('You cancelled the login on Discord');
    const refused = await callback(api, `code=stolen-code&state=${state}`, state);
    expect(refused.status).toBe(502);
    expect(await refused.text()).toContain('Discord refused the login (invalid_grant)');
    for (const res of [forged, cancelled, refused]) expect(cookieOf(res, 'panel_session')).toBeUndefined();
    expect(await api.runtime.config.conn.collection('panel_sessions').countDocuments()).toBe(0);
  });

  it('is not offered without DISCORD_CLIENT_SECRET', async () => {
    const api = await startTestApi('oauth_off');
    const login = await (await fetch(`${api.url}/panel/login`)).text();
    expect(login).not.toContain('Log in with Discord');
    expect((await fetch(`${api.url}/panel/oauth/start`, { redirect: 'manual' })).status).toBe(404);
  });
});
