import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { panelLogins, panelSurface } from '../../src/app/panel.js';
import { bindModels } from '../../src/storage/config-models.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { loginPanel, panelFetch, panelIdentity, panelLink, type PanelClient } from '../helpers/panel.js';

interface PanelRoute {
  method: string;
  url: string;
  panel: string;
}

/** Every route the panel declares, with its requirement: built on a server of the test's own. */
async function panelRoutes(api: TestApi): Promise<PanelRoute[]> {
  const app = Fastify({ logger: false });
  const routes: PanelRoute[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat())
      if (method !== 'HEAD') routes.push({ method, url: r.url, panel: String(r.config?.panel) });
  });
  await panelSurface(api.runtime, api.env, panelLogins(api.runtime, api.env), () => api.url, {})(app);
  await app.ready();
  await app.close();
  return routes;
}

/** A route's path with its parameters filled in (the guard answers before any handler reads them). */
const filled = (url: string) => url.replace(/:key\b/g, 'LOG_LEVEL').replace(/:[A-Za-z]+/g, 'x');

/** The panel's pages an admin reaches by following links from /panel (no static files, no login). */
async function crawl(client: PanelClient, limit = 40): Promise<Map<string, string>> {
  const pages = new Map<string, string>();
  const queue = ['/panel'];
  while (queue.length > 0 && pages.size < limit) {
    const path = queue.shift() as string;
    if (pages.has(path)) continue;
    const res = await client.fetch(path);
    const html = await res.text();
    expect(res.status, `GET ${path}`).toBe(200);
    pages.set(path, html);
    for (const m of html.matchAll(/<a\b[^>]*\bhref="(\/panel[^"#]*)"/g)) {
      const next = (m[1] ?? '').replace(/&amp;/g, '&');
      if (!/^\/panel\/(static|login|logout)\b/.test(next) && !pages.has(next)) queue.push(next);
    }
  }
  return pages;
}

/**
 * Everything a refused request could have changed (not sessions, rate counters or heartbeats;
 * the audit log too unless `audit` is false, for refusals that are audited as denied).
 */
async function dbState(api: TestApi, { audit = true } = {}): Promise<string> {
  const { conn } = api.runtime.config;
  const cols = (await conn.db?.listCollections().toArray()) ?? [];
  const state: Record<string, unknown> = {};
  const skip = /^(panel_|config_rate_limits|config_instances|flag_evaluations|flag_errors)/;
  for (const { name } of cols.sort((a, b) => a.name.localeCompare(b.name)))
    if (!skip.test(name) && (audit || !['config_audit_logs', 'config_audit_head'].includes(name)))
      state[name] = await conn.collection(name).find().sort({ _id: 1 }).toArray();
  return JSON.stringify(state);
}

const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
];

/** The page's security headers, and markup the CSP would block or that loads from elsewhere. */
function checkPage(where: string, res: Response, html: string): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  for (const d of PAGE_CSP) expect(csp, `${where}: CSP`).toContain(d);
  expect(csp, `${where}: CSP`).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  expect(res.headers.get('x-content-type-options'), where).toBe('nosniff');
  expect(res.headers.get('cache-control'), where).toBe('no-store');
  for (const [tag, name = ''] of html.matchAll(/<([a-z][a-z0-9-]*)\b[^>]*>/gi)) {
    // Inline script and style, and attributes that run code, are what the CSP forbids.
    expect(tag, `${where}: inline style or handler`).not.toMatch(/\s(style|on[a-z]+|hx-on[:a-z-]*)=/i);
    if (name.toLowerCase() === 'script') expect(tag, `${where}: inline script`).toMatch(/\ssrc="\//);
    // Nothing is loaded from another origin (links to other sites are not loads).
    if (name.toLowerCase() !== 'a')
      expect(tag, `${where}: loads from another origin`).not.toMatch(
        /\s(src|srcset|href|action|formaction|poster|hx-[a-z]+|sse-connect)="\s*(https?:)?\/\//i,
      );
  }
}

describe('panel security', () => {
  it('answers 401 with the login help to every panel route without a session', async () => {
    const api = await startTestApi('panel_sec_401');
    const routes = await panelRoutes(api);
    const guarded = routes.filter((r) => r.panel !== 'none');
    expect(guarded.map((r) => `${r.method} ${r.url}`)).toContain('GET /panel');
    for (const r of guarded) {
      const path = filled(r.url);
      const res = await panelFetch(api.url, {}, path, { method: r.method });
      expect(res.status, `${r.method} ${path}`).toBe(401);
      const html = await res.text();
      expect(html, `${r.method} ${path}`).toContain('You are not logged in, or your session ended.');
      expect(html).toContain('How to log in');
      // An htmx request gets the same refusal as a fragment.
      const frag = await panelFetch(api.url, {}, path, {
        method: r.method,
        headers: { 'hx-request': 'true' },
      });
      expect(frag.status).toBe(401);
      expect(await frag.text()).toMatch(/^<p class="error" role="alert">You are not logged in/);
    }
    // A cookie naming no session is the same as none.
    const forged = await panelFetch(api.url, { cookie: 'A'.repeat(43) }, '/panel');
    expect(forged.status).toBe(401);
  });

  it('refuses every state change without the form token, from another origin or another site, and changes nothing', async () => {
    const api = await startTestApi('panel_sec_csrf');
    const routes = (await panelRoutes(api)).filter((r) => r.method !== 'GET');
    expect(routes.some((r) => r.url === '/panel/logout')).toBe(true);
    const admin = await loginPanel(api);
    const before = await dbState(api);
    const form = { key: 'LOG_LEVEL', value: 'debug', scope: 'global', confirm: 'yes' };
    for (const r of routes) {
      const path = filled(r.url);
      const tries: [string, Parameters<PanelClient['fetch']>[1]][] = [
        ['foreign Origin', { method: r.method, form, origin: 'https://evil.example' }],
        ['no Origin', { method: r.method, form, origin: null }],
        ['cross-site', { method: r.method, form, headers: { 'sec-fetch-site': 'cross-site' } }],
        ['same-site', { method: r.method, form, headers: { 'sec-fetch-site': 'same-site' } }],
      ];
      if (r.panel !== 'none') tries.push(['no form token', { method: r.method, form, csrf: false }]);
      if (r.panel !== 'none')
        tries.push(['wrong form token', { method: r.method, form: { ...form, _csrf: 'x'.repeat(43) } }]);
      for (const [why, init] of tries) {
        const res = await admin.fetch(path, init);
        const text = await res.text();
        expect(res.status, `${r.method} ${path} with ${why}: ${text}`).toBe(403);
        expect(text).toMatch(/refused and nothing changed|reload the page and try again/);
      }
    }
    expect(await dbState(api)).toBe(before);
    // The session survived the refused logouts.
    expect((await admin.fetch('/panel')).status).toBe(200);
  });

  it('refuses a read-only session on every write route, with the reason', async () => {
    const api = await startTestApi('panel_sec_readonly');
    const writes = (await panelRoutes(api)).filter((r) => r.panel === 'write');
    expect(writes.length).toBeGreaterThan(0);
    const member = await loginPanel(api, panelIdentity('member'));
    const before = await dbState(api, { audit: false });
    const audit = bindModels(api.runtime.config.conn).ConfigAudit;
    const rowsBefore = await audit.countDocuments();
    for (const r of writes) {
      const path = filled(r.url);
      const res = await member.fetch(path, { method: r.method, form: { value: 'debug' } });
      expect(res.status, `${r.method} ${path}`).toBe(403);
      expect(await res.text()).toContain('Your account may look at the configuration but not change it.');
    }
    expect(await dbState(api, { audit: false })).toBe(before);
    // Each refusal is audited as Discord's are: denied, on channel panel, to the member.
    const rows = await audit.find().sort({ createdAt: 1 }).skip(rowsBefore).lean();
    expect(rows).toHaveLength(writes.length);
    for (const row of rows)
      expect(row).toMatchObject({
        status: 'denied',
        channelId: 'panel',
        actor: { id: member.session.user.id },
        error: 'Your account may look at the configuration but not change it.',
      });
  });

  it('sends the strict CSP on every page, with no inline script or style and nothing from another origin', async () => {
    const api = await startTestApi('panel_sec_csp');
    const admin = await loginPanel(api);
    const pages = await crawl(admin);
    expect(pages.size).toBeGreaterThan(0);
    for (const path of pages.keys()) {
      const res = await admin.fetch(path);
      checkPage(path, res, await res.text());
    }
    // The pages without a session: login, refused link, 401, logged out.
    const link = await panelLink(api);
    const login = await fetch(link);
    checkPage('login page', login, await login.text());
    const unknown = await fetch(`${api.url}/panel/login/${'B'.repeat(43)}`);
    checkPage('refused link', unknown, await unknown.text());
    const noSession = await fetch(`${api.url}/panel`);
    checkPage('401', noSession, await noSession.text());
    const out = await admin.fetch('/panel/logout', { form: {} });
    checkPage('logged out', out, await out.text());
    // The panel's own files load nothing from elsewhere either.
    for (const name of ['panel.css', 'panel.js']) {
      const res = await fetch(`${api.url}/panel/static/${name}`);
      expect(res.status).toBe(200);
      expect(await res.text(), name).not.toMatch(/(url\(|@import|fetch\(|src\s*=)\s*['"]?(https?:)?\/\//i);
    }
  });

  it('shows markup in values, reasons and names as text', async () => {
    const api = await startTestApi('panel_sec_xss');
    const xss = '<img src=x onerror=alert(1)>';
    const { config } = api.runtime;
    await config.set('MAX_BATCH_SIZE', '300', { id: '100000000000000009', tag: xss }, `because ${xss}`);
    await expect(config.set('MAX_BATCH_SIZE', xss, { id: '100000000000000009', tag: xss })).rejects.toThrow();
    const admin = await loginPanel(
      api,
      panelIdentity('admin', { user: { id: '100000000000000001', tag: xss } }),
    );
    const login = await (
      await fetch(await panelLink(api, panelIdentity('member', { user: { id: '1', tag: xss } })))
    ).text();
    const pages = {
      login,
      settings: await admin.page('/panel'),
      history: await admin.page('/panel/history/MAX_BATCH_SIZE'),
      audit: await admin.page('/panel/audit'),
    };
    for (const [name, html] of Object.entries(pages)) {
      expect(html, name).not.toContain('<img');
      expect(html, name).toContain('&lt;img src=x onerror=alert(1)>');
    }
  });

  it('leaves the bearer API as it was: JSON errors, no cookies, no panel headers, no panel routes in OpenAPI', async () => {
    const api = await startTestApi('panel_sec_api');
    const admin = await loginPanel(api);
    const check = async (res: Response, status: number) => {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(res.headers.get('content-security-policy')).toBeNull();
      expect(res.headers.get('x-frame-options')).toBeNull();
      return (await res.json()) as { error: { code: string } };
    };
    expect((await check(await api.call('/v1/config'), 401)).error.code).toBeTruthy();
    // The panel's session cookie is no API credential.
    const withCookie = await api.call('/v1/config', { headers: { cookie: `panel_session=${admin.cookie}` } });
    expect(withCookie.status).toBe(401);
    await check(withCookie, 401);
    await check(await api.call('/v1/no-such-route'), 404);
    // Form bodies are the panel's; the API still takes JSON only.
    const writer = await api.token('write');
    const form = await api.call('/v1/config/LOG_LEVEL', {
      method: 'PUT',
      token: writer,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'value=debug',
    });
    expect((await check(form, 415)).error.code).toBeTruthy();
    const read = await api.call('/v1/config', { token: await api.token('read') });
    expect(read.status).toBe(200);
    expect(read.headers.getSetCookie()).toEqual([]);
    expect(read.headers.get('content-security-policy')).toBeNull();
    const doc = (await (await api.call('/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(
      Object.keys(doc.paths).filter((p) => p === '/' || p.startsWith('/panel') || p === '/admin'),
    ).toEqual([]);
  });
});
