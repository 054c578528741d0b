import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/panel/guard.js';
import { TokenStore } from '../../src/tokens/tokens.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { checkAxe, noBrowser, openPage, screenshot, useBrowser } from '../helpers/browser.js';
import { loginPanel, panelIdentity, type PanelClient } from '../helpers/panel.js';

const TOKEN_TEXT = /cfgbot_[0-9a-f]{10}_[A-Za-z0-9_-]{43}/g;

/** The page's text with markup and entities' tags taken out. */
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

async function create(client: PanelClient, form: Record<string, string>) {
  const res = await client.fetch('/panel/tokens', {
    form: { access: 'read', scope: '', expires: '', ...form },
  });
  return { res, html: await res.text() };
}

/** Polls the API with `token` until it answers `status` (ActiveTokens reads tokens again every second). */
async function apiAnswers(api: TestApi, token: string, status: number, withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await api.call('/v1/config/MAX_BATCH_SIZE', { token });
    await res.arrayBuffer();
    if (res.status === status) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`API answered ${res.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('/panel/tokens', () => {
  it('shows a new token once, which then works against the API, and never lists it', async () => {
    const api = await startTestApi('panel_tokens_create');
    const admin = await loginPanel(api);
    const { res, html } = await create(admin, { name: 'ci-deploy', expires: '90d' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const shown = html.match(TOKEN_TEXT) ?? [];
    expect(shown).toHaveLength(1);
    const token = shown[0] as string;
    expect(text(html)).toContain('Shown this once only');

    await apiAnswers(api, token, 200, 5000);

    const list = await admin.page('/panel/tokens');
    expect(list).toContain('ci-deploy');
    expect(list).not.toMatch(TOKEN_TEXT);
    expect(list).not.toContain(token.slice(-43));

    const [row] = await api.runtime.config.auditLog({ key: 'token:ci-deploy', action: 'token-create' });
    expect(row).toMatchObject({ status: 'success', channelId: 'panel', actor: admin.session.user });
    expect(JSON.stringify(row)).not.toContain(token.slice(-43));
  });

  it('refuses what Discord refuses, with its messages, and creates nothing', async () => {
    const api = await startTestApi('panel_tokens_invalid');
    const admin = await loginPanel(api);
    const bad = await create(admin, { name: 'Not A Name' });
    expect(bad.res.status).toBe(400);
    expect(text(bad.html)).toContain('is not a token name: use 2-32 lower-case letters, digits, - or _');
    expect(bad.html).not.toMatch(TOKEN_TEXT);
    // The form keeps what was typed.
    expect(bad.html).toContain('value="Not A Name"');

    const short = await create(admin, { name: 'short-lived', expires: '5m' });
    expect(short.res.status).toBe(400);
    expect(text(short.html)).toContain('expires:');

    const scope = await create(admin, { name: 'scoped', scope: 'env:nowhere' });
    expect(scope.res.status).toBe(400);

    await create(admin, { name: 'taken' });
    const again = await create(admin, { name: 'taken' });
    expect(again.res.status).toBe(409);
    expect(text(again.html)).toContain('A token named taken exists already.');

    expect((await new TokenStore(api.runtime.config.conn).list()).map((t) => t.name)).toEqual(['taken']);
    const [failed] = await api.runtime.config.auditLog({ key: 'token:short-lived', action: 'token-create' });
    expect(failed).toMatchObject({ status: 'failed', channelId: 'panel' });
  });

  it('revokes after a confirmation; the API refuses the token within 5 s', async () => {
    const api = await startTestApi('panel_tokens_revoke');
    const admin = await loginPanel(api);
    const token = (await create(admin, { name: 'old-ci', access: 'write' })).html.match(TOKEN_TEXT)?.[0];
    if (!token) throw new Error('no token shown');
    await apiAnswers(api, token, 200, 5000);

    const confirm = await admin.page('/panel/tokens/revoke?name=old-ci');
    expect(text(confirm)).toContain('Revoke token old-ci?');
    // Without the confirmation nothing is revoked.
    const unconfirmed = await admin.fetch('/panel/tokens/revoke', { form: { name: 'old-ci' } });
    expect(unconfirmed.status).toBe(400);
    expect((await new TokenStore(api.runtime.config.conn).list()).map((t) => t.name)).toEqual(['old-ci']);

    const res = await admin.fetch('/panel/tokens/revoke', { form: { name: 'old-ci', confirm: '1' } });
    expect(res.status).toBe(200);
    expect(text(await res.text())).toContain('Token old-ci revoked');
    expect(await apiAnswers(api, token, 401, 5000)).toBeLessThan(5000);
    expect(await admin.page('/panel/tokens')).not.toContain('old-ci');

    const [row] = await api.runtime.config.auditLog({ key: 'token:old-ci', action: 'token-revoke' });
    expect(row).toMatchObject({ status: 'success', channelId: 'panel', actor: admin.session.user });
    const gone = await admin.fetch('/panel/tokens/revoke', { form: { name: 'old-ci', confirm: '1' } });
    expect(gone.status).toBe(404);
  });

  it('refuses members and self-service admins, to look or to write, and audits it', async () => {
    const api = await startTestApi('panel_tokens_member');
    const tokens = new TokenStore(api.runtime.config.conn);
    for (const kind of ['member', 'selfservice'] as const) {
      const client = await loginPanel(api, panelIdentity(kind));
      expect(await client.page('/panel', 200)).not.toContain('href="/panel/tokens"');
      expect((await client.fetch('/panel/tokens')).status).toBe(403);
      const made = await client.fetch('/panel/tokens', { form: { name: `by-${kind}`, access: 'write' } });
      expect(made.status).toBe(403);
      expect(await made.text()).not.toMatch(TOKEN_TEXT);
      const denied = await api.runtime.config.auditLog({ status: 'denied', action: 'token-create' });
      expect(denied.find((r) => r.actor.id === client.session.user.id)).toMatchObject({ channelId: 'panel' });
    }
    await api.token('read', { name: 'keep-me' });
    const member = await loginPanel(api, panelIdentity('member'));
    const revoke = await member.fetch('/panel/tokens/revoke', { form: { name: 'keep-me', confirm: '1' } });
    expect(revoke.status).toBe(403);
    expect((await tokens.list()).map((t) => t.name)).toEqual(['keep-me']);
    // No session at all.
    expect((await fetch(`${api.url}/panel/tokens`, { redirect: 'manual' })).status).toBe(401);
  });
});

describe.skipIf(noBrowser)('the tokens page in the browser', () => {
  const held = useBrowser('panel tokens');

  it('creates a token with the form, passes axe, and is screenshotted', async () => {
    const api = await startTestApi('panel_tokens_browser');
    await api.token('write', { name: 'deploy-bot', scope: 'env:production' });
    const admin = await loginPanel(api);
    const { context, page, errors } = await openPage(held.browser);
    await context.addCookies([{ name: SESSION_COOKIE, value: admin.cookie, url: api.url }]);
    await page.goto(`${api.url}/panel/tokens`);
    await checkAxe(page);
    await screenshot(page, 'tokens');

    await page.getByLabel('Name').fill('grafana');
    await page.getByLabel('Expires after').fill('30d');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.waitForSelector('#tk-secret');
    expect(await page.locator('#tk-secret').inputValue()).toMatch(/^cfgbot_/);
    await checkAxe(page);
    await screenshot(page, 'tokens-created');

    await page.goto(`${api.url}/panel/tokens/revoke?name=grafana`);
    await checkAxe(page);
    await screenshot(page, 'tokens-revoke');
    expect(errors).toEqual([]);
    await context.close();
  });
});
