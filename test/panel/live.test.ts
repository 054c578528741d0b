import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/panel/guard.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { noBrowser, openPage, screenshot, useBrowser } from '../helpers/browser.js';
import { loginPanel, panelIdentity } from '../helpers/panel.js';
import { openEvents } from '../helpers/sse.js';

const KEY = 'MAX_BATCH_SIZE';
const OTHER = { id: '100000000000000042', tag: 'other_process_admin' };

/** A PUT through the API with a write token, as an application or a script makes it. */
async function putViaApi(api: TestApi, value: number): Promise<void> {
  const res = await api.call(`/v1/config/${KEY}`, {
    method: 'PUT',
    token: await api.token('write'),
    json: { value },
  });
  expect(res.status).toBe(200);
}

/** A second runtime (and API) on the same database: another process. */
const otherProcess = (api: TestApi) =>
  startTestApi('panel_live_other', { dbName: api.env.MONGODB_DB_NAME, report: false });

const events = (api: TestApi, cookie?: string) =>
  openEvents(`${api.url}/panel/events`, cookie ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {});

describe('GET /panel/events', () => {
  it('sends every change committed here or by another process, with its key, scope and version', async () => {
    const api = await startTestApi('panel_live_stream');
    const client = await loginPanel(api);
    const stream = await events(api, client.cookie);
    expect(stream.status).toBe(200);

    await putViaApi(api, 120);
    const here = await stream.next((e) => e.event === 'change' && e.data.key === KEY, 'the API change', 3000);
    expect(here.data).toMatchObject({ key: KEY, scope: 'global', version: 2, action: 'set' });

    const other = await otherProcess(api);
    await other.runtime.config.set(KEY, '130', OTHER, 'from elsewhere', { channelId: 'api' });
    const there = await stream.next(
      (e) => e.event === 'change' && e.data.version === 3,
      'the other process’s change',
      3000,
    );
    expect(there.data).toEqual({
      key: KEY,
      scope: 'global',
      version: 3,
      action: 'set',
      by: OTHER.tag,
      byId: OTHER.id,
    });
    // Nothing of the value itself: the row fetches what the session may see.
    expect(JSON.stringify(stream.events)).not.toContain('130');
  });

  it('refuses a request without a session, and leaves out other servers’ overrides', async () => {
    const api = await startTestApi('panel_live_refuse');
    expect((await events(api)).status).toBe(401);
    const stream = await events(api, (await loginPanel(api, panelIdentity('member'))).cookie);
    const elsewhere = { guildId: '900000000000000099', channelId: 'api' };
    await api.runtime.config.set(KEY, '50', OTHER, undefined, elsewhere, {
      scope: 'guild:900000000000000099',
    });
    await putViaApi(api, 121);
    await stream.next((e) => e.data.scope === 'global', 'the global change', 3000);
    expect(stream.events.map((e) => e.data.scope)).toEqual(['global']);
  });

  it('ends the stream when the session ends, and a server closing does not wait for it', async () => {
    const api = await startTestApi('panel_live_end');
    const client = await loginPanel(api);
    const stream = await events(api, client.cookie);
    expect((await client.fetch('/panel/logout', { form: {} })).status).toBe(200);
    await stream.ended(8000);

    const again = await events(api, (await loginPanel(api)).cookie);
    const started = Date.now();
    await api.stop();
    await again.ended(2000);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe.skipIf(noBrowser)('live updates in the browser', () => {
  const held = useBrowser('panel live');

  it('shows a change made through the API and one made by another process, without a reload', async () => {
    const api = await startTestApi('panel_live_browser');
    const client = await loginPanel(api);
    const { context, page, errors } = await openPage(held.browser);
    await context.addCookies([{ name: SESSION_COOKIE, value: client.cookie, url: api.url }]);
    // The stream follows the feed from the moment the server answers it.
    const streaming = page.waitForResponse((r) => r.url().endsWith('/panel/events'));
    await page.goto(`${api.url}/panel?q=${KEY}`);
    expect((await streaming).status()).toBe(200);
    const value = page.locator(`tr[data-live-key="${KEY}"] td.value code`).first();
    await expect.poll(() => value.textContent()).toBe('100');
    // Set on this document only: a reload would lose it.
    await page.evaluate('window.__sameDocument = true');

    // How fast is a figure of `npm run bench`, not an assertion here: the wait only bounds a hang.
    await putViaApi(api, 120);
    await expect.poll(() => value.textContent(), { timeout: 10_000, interval: 50 }).toBe('120');
    await expect.poll(() => page.locator('.live-notice').textContent()).toMatch(`${KEY} changed to v2 by `);
    expect(await page.locator('.live-notice').getAttribute('aria-live')).toBe('polite');

    const other = await otherProcess(api);
    await other.runtime.config.set(KEY, '130', OTHER, 'from elsewhere', { channelId: 'api' });
    await expect.poll(() => value.textContent(), { timeout: 10_000, interval: 50 }).toBe('130');
    await expect
      .poll(() => page.locator('.live-notice').textContent())
      .toBe(`${KEY} changed to v3 by ${OTHER.tag}`);
    await screenshot(page, 'settings-live-notice');

    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});
