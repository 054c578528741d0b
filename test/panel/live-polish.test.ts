import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FlagInput } from '@config-bot/client/flags';
import { SESSION_COOKIE } from '../../src/panel/guard.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { checkAxe, noBrowser, openPage, screenshot, SCREENSHOTS, useBrowser } from '../helpers/browser.js';
import { loginPanel } from '../helpers/panel.js';

const KEY = 'MAX_BATCH_SIZE';
const OTHER = { id: '100000000000000042', tag: 'other_process_admin' };
const EDITING = 'you are editing it';
const FLAG: FlagInput = {
  name: 'new-checkout',
  description: 'The new checkout',
  type: 'release',
  owner: 'payments',
  enabled: true,
  environments: ['staging'],
};

/** A second runtime on the same database: another process. */
const otherProcess = (api: TestApi) =>
  startTestApi('panel_live_polish_other', { dbName: api.env.MONGODB_DB_NAME, report: false });

describe.skipIf(noBrowser)('live updates, polished', () => {
  const held = useBrowser('panel live polish');

  it('leaves the viewer’s own change alone, updates the row for another’s, keeps a row being typed in', async () => {
    const api = await startTestApi('panel_live_polish');
    const admin = await loginPanel(api);
    const { context, page, errors } = await openPage(held.browser);
    await context.addCookies([{ name: SESSION_COOKIE, value: admin.cookie, url: api.url }]);
    page.setDefaultTimeout(8000);
    const streaming = page.waitForResponse((r) => r.url().endsWith('/panel/events'));
    await page.goto(`${api.url}/panel?q=${KEY}`);
    await streaming;
    expect(await page.locator('body').getAttribute('data-user-id')).toBe(admin.session.user.id);
    const row = page.locator(`#key-${KEY}`);
    const notice = page.locator('.live-notice');

    // The viewer's own change, applied from the row: its answer stays, no "editing" notice.
    await row.locator('summary').click();
    await page.getByLabel(`Value of ${KEY}`, { exact: true }).fill('120');
    await row.getByRole('button', { name: 'Preview' }).click();
    await row.getByRole('heading', { name: `Preview: ${KEY}` }).waitFor();
    await row.getByLabel('This changes production: I have checked this change.').check();
    await row.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => row.getByRole('status').textContent()).toContain(`Saved: ${KEY} is now 120`);
    await expect
      .poll(() => notice.textContent(), { timeout: 8000 })
      .toContain(`${KEY} changed to v2 by admin`);
    expect(await notice.textContent()).not.toContain(EDITING);
    expect(await row.getByRole('status').textContent()).toContain(`Saved: ${KEY} is now 120`);

    // Another process's change: the row shows it, without a reload.
    const other = await otherProcess(api);
    await other.runtime.config.set(KEY, '130', OTHER, 'from elsewhere', { channelId: 'api' });
    const value = page.locator(`#key-${KEY} td.value code`).first();
    await expect.poll(() => value.textContent(), { timeout: 10_000, interval: 50 }).toBe('130');
    await expect.poll(() => notice.textContent()).toBe(`${KEY} changed to v3 by ${OTHER.tag}`);

    // A value being typed is kept, and the notice says why the row did not change.
    await page.locator(`#key-${KEY} summary`).click();
    const input = page.getByLabel(`Value of ${KEY}`, { exact: true });
    await input.fill('77');
    await page.locator('h1').click();
    await other.runtime.config.set(KEY, '140', OTHER, 'again', { channelId: 'api' });
    await expect.poll(() => notice.textContent(), { timeout: 10_000 }).toContain(`v4 by ${OTHER.tag}`);
    expect(await notice.textContent()).toContain(EDITING);
    expect(await input.inputValue()).toBe('77');
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('offers a reload on a flag’s page when another process changes the flag', async () => {
    const api = await startTestApi('panel_live_polish_flag');
    await api.runtime.flags.create(FLAG, OTHER);
    const admin = await loginPanel(api);
    const { context, page, errors } = await openPage(held.browser);
    await context.addCookies([{ name: SESSION_COOKIE, value: admin.cookie, url: api.url }]);
    const streaming = page.waitForResponse((r) => r.url().endsWith('/panel/events'));
    await page.goto(`${api.url}/panel/flags/${FLAG.name}`);
    await streaming;

    const other = await otherProcess(api);
    await other.runtime.flags.update(FLAG.name, (f) => ({ ...f, description: 'Changed elsewhere' }), OTHER);
    const notice = page.locator('.live-notice');
    await expect
      .poll(() => notice.textContent(), { timeout: 10_000 })
      .toBe(`Flag ${FLAG.name} changed to v2 by ${OTHER.tag} Reload to see it`);
    await checkAxe(page);
    await screenshot(page, 'flag-live-reload');
    // The notice is fixed to the viewport: a full-page picture shows it far from where it is read.
    await page.screenshot({ path: path.join(SCREENSHOTS, 'flag-live-reload-notice.png') });
    await notice.getByRole('link', { name: 'Reload to see it' }).click();
    await expect.poll(() => page.locator('.fl-summary').textContent()).toContain('Changed elsewhere');
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
