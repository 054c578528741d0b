import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.js';
import {
  loginPanel,
  loginWithLink,
  panelFetch,
  panelIdentity,
  panelLink,
  redeemLink,
  sessionCookieOf,
} from '../helpers/panel.js';
import { PanelSessionRecords } from '../../src/storage/panel-sessions.js';
import { PanelLogins } from '../../src/tokens/panel-logins.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('panel login with a one-time link', () => {
  it('logs in once: the second use of the link answers 410 with a plain message and no session', async () => {
    const api = await startTestApi('panel_login_once');
    const link = await panelLink(api);
    const first = await redeemLink(link);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/panel');
    const cookie = sessionCookieOf(first);
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await panelFetch(api.url, { cookie }, '/panel')).status).toBe(200);

    const again = await redeemLink(link);
    expect(again.status).toBe(410);
    expect(sessionCookieOf(again)).toBeUndefined();
    const text = await again.text();
    expect(text).toContain('This login link was used already; a link logs in once. Ask for a new one.');
    expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
    // Opening it again says the same.
    const opened = await fetch(link);
    expect(opened.status).toBe(410);
    expect(await opened.text()).toContain('was used already');
  });

  it('gives one session when two browsers post the same link at once', async () => {
    const api = await startTestApi('panel_login_race');
    const link = await panelLink(api);
    const answers = await Promise.all([redeemLink(link), redeemLink(link), redeemLink(link)]);
    expect(answers.map((r) => r.status).sort()).toEqual([303, 410, 410]);
  });

  it('opening the link (GET) shows whom it logs in and does not use it; the button (POST) does', async () => {
    const api = await startTestApi('panel_login_get');
    const link = await panelLink(api, panelIdentity('member'));
    for (let i = 0; i < 2; i++) {
      const res = await fetch(link);
      expect(res.status).toBe(200);
      expect(sessionCookieOf(res)).toBeUndefined();
      const html = await res.text();
      expect(html).toContain('This link logs in <strong>member</strong> with read-only access');
      expect(html).toContain(`<form method="post" action="${new URL(link).pathname}">`);
    }
    const client = await loginWithLink(api, link);
    expect(client.session).toMatchObject({ user: { tag: 'member' }, access: 'read' });
  });

  it('refuses an expired link and an unknown one, page and button alike', async () => {
    const api = await startTestApi('panel_login_expired');
    const text = randomBytes(32).toString('base64url');
    const past = new Date(Date.now() - 60_000);
    await new PanelSessionRecords(api.runtime.config.conn).addLink({
      _id: sha256(text),
      ...panelIdentity('admin'),
      createdAt: new Date(past.getTime() - 5 * 60_000),
      expiresAt: past,
    });
    for (const secret of [text, randomBytes(32).toString('base64url'), 'not-a-secret']) {
      const link = `${api.url}/panel/login/${secret}`;
      const page = await fetch(link);
      expect(page.status).toBe(410);
      expect(await page.text()).toContain('This login link is not valid');
      const post = await redeemLink(link);
      expect(post.status).toBe(410);
      expect(sessionCookieOf(post)).toBeUndefined();
    }
  });

  it('refuses a local admin link and session while Discord is connected (no local admin)', async () => {
    const api = await startTestApi('panel_login_local');
    const link = await panelLink(api, panelIdentity('local'));
    const page = await fetch(link);
    expect(page.status).toBe(410);
    const post = await redeemLink(link);
    expect(post.status).toBe(410);
    expect(sessionCookieOf(post)).toBeUndefined();
    // Nor does a session the local admin already had count any more.
    const logins = new PanelLogins(api.runtime.config.conn, { idleMs: 60_000, maxMs: 3_600_000 });
    const other = await logins.createLink(panelIdentity('local'), api.url);
    const made = await logins.redeem(other.url.split('/').pop() ?? '');
    expect(typeof made).toBe('object');
    const id = typeof made === 'object' ? made.id : '';
    expect((await panelFetch(api.url, { cookie: id }, '/panel')).status).toBe(401);
  });
});

describe('panel sessions', () => {
  it('logging out ends the session: the cookie no longer works and is cleared', async () => {
    const api = await startTestApi('panel_logout');
    const client = await loginPanel(api);
    expect((await client.fetch('/panel')).status).toBe(200);
    const out = await client.fetch('/panel/logout', { form: {} });
    expect(out.status).toBe(200);
    expect(await out.text()).toContain('You are logged out');
    expect(out.headers.getSetCookie().join('\n')).toMatch(/panel_session=;.*Expires=Thu, 01 Jan 1970/);
    const after = await client.fetch('/panel');
    expect(after.status).toBe(401);
    expect(await after.text()).toContain('You are not logged in, or your session ended.');
    const records = new PanelSessionRecords(api.runtime.config.conn);
    expect(await records.findSession(sha256(client.cookie))).toBeUndefined();
  });

  it('ends a session idle for PANEL_SESSION_IDLE_MIN, and keeps one used within it', async () => {
    const api = await startTestApi('panel_idle', { vars: { PANEL_SESSION_IDLE_MIN: '5' } });
    const records = new PanelSessionRecords(api.runtime.config.conn);
    const conn = api.runtime.config.conn;
    const idle = (client: { cookie: string }, minutes: number) =>
      conn
        .collection('panel_sessions')
        .updateOne(
          { _id: sha256(client.cookie) as never },
          { $set: { seenAt: new Date(Date.now() - minutes * 60_000) } },
        );
    const recent = await loginPanel(api);
    await idle(recent, 4);
    expect((await recent.fetch('/panel')).status).toBe(200);
    // The request counted as use: the session was touched.
    const touched = await records.findSession(sha256(recent.cookie));
    expect(Date.now() - (touched?.seenAt.getTime() ?? 0)).toBeLessThan(10_000);

    const stale = await loginPanel(api);
    await idle(stale, 6);
    expect((await stale.fetch('/panel')).status).toBe(401);
    expect(await records.findSession(sha256(stale.cookie))).toBeUndefined();
  });

  it('ends a session PANEL_SESSION_MAX_HOURS after login however it is used', async () => {
    const api = await startTestApi('panel_max', { vars: { PANEL_SESSION_MAX_HOURS: '2' } });
    const client = await loginPanel(api);
    const { session } = client;
    expect(session.expiresAt.getTime() - session.createdAt.getTime()).toBe(2 * 3_600_000);
    // The cookie goes with the session.
    const expires = /Expires=([^;]+)/.exec(client.setCookie)?.[1] ?? '';
    expect(Math.abs(Date.parse(expires) - session.expiresAt.getTime())).toBeLessThan(1000);
    await api.runtime.config.conn
      .collection('panel_sessions')
      .updateOne(
        { _id: sha256(client.cookie) as never },
        { $set: { expiresAt: new Date(Date.now() - 1000), seenAt: new Date() } },
      );
    expect((await client.fetch('/panel')).status).toBe(401);
  });

  it('answers an unknown panel address with a 404 page to a session, and 401 without one', async () => {
    const api = await startTestApi('panel_not_found');
    const client = await loginPanel(api);
    const res = await client.fetch('/panel/no/such-page?x=1');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('The panel has no page at <code>/panel/no/such-page</code>.');
    expect((await panelFetch(api.url, {}, '/panel/no/such-page')).status).toBe(401);
  });

  it('sets the cookie HttpOnly, SameSite=Lax, Path=/, and not Secure over http', async () => {
    const api = await startTestApi('panel_cookie');
    const { setCookie } = await loginPanel(api);
    const parts = setCookie.split(/;\s*/).map((p) => p.toLowerCase());
    expect(parts).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/']));
    expect(parts).not.toContain('secure');
  });

  it('makes the cookie Secure when PANEL_URL is https', async () => {
    const api = await startTestApi('panel_cookie_https', { vars: { PANEL_URL: 'https://panel.example' } });
    const { setCookie } = await loginPanel(api);
    const parts = setCookie.split(/;\s*/).map((p) => p.toLowerCase());
    expect(parts).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/', 'secure']));
  });
});
