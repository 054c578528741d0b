import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.js';
import path from 'node:path';
import { checkAxe, noBrowser, openPage, screenshot, SCREENSHOTS, useBrowser } from '../helpers/browser.js';
import { loginPanel } from '../helpers/panel.js';
import { SESSION_COOKIE } from '../../src/panel/guard.js';
import { panelAudit, stored } from './settings-steps.js';

const chrome = useBrowser('panel settings browser tests');

describe.skipIf(noBrowser)('editing a setting in Chromium', () => {
  it('shows an invalid value next to its field, then previews, confirms and applies a valid one', async () => {
    const api = await startTestApi('panel_settings_browser');
    const client = await loginPanel(api);
    const { context, page, errors } = await openPage(chrome.browser);
    await context.addCookies([
      { name: SESSION_COOKIE, value: client.cookie, domain: new URL(api.url).hostname, path: '/' },
    ]);
    page.setDefaultTimeout(5000);
    await page.goto(`${api.url}/panel`, { waitUntil: 'load' });
    const row = page.locator('#key-MAX_BATCH_SIZE');
    await row.locator('summary').click();
    const input = page.getByLabel('Value of MAX_BATCH_SIZE', { exact: true });

    // Invalid: the refusal shows under the field, as an alert; nothing is stored.
    const before = await stored(api);
    await input.fill('5000');
    await row.getByRole('button', { name: 'Preview' }).click();
    const alert = row.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('MAX_BATCH_SIZE');
    expect(await stored(api)).toBe(before);

    // Valid: the preview with its warning and the confirmation production asks for.
    await input.fill('5');
    await row.getByLabel('Reason for changing MAX_BATCH_SIZE').fill('smaller batches');
    await row.getByRole('button', { name: 'Preview' }).click();
    await row.getByRole('heading', { name: 'Preview: MAX_BATCH_SIZE' }).waitFor();
    expect(await row.textContent()).toContain('very small batch');
    await row.getByLabel('This changes production: I have checked this change.').check();
    await row.getByRole('button', { name: 'Apply' }).click();
    const saved = page.locator('#key-MAX_BATCH_SIZE').getByRole('status');
    await expect.poll(() => saved.textContent()).toContain('Saved: MAX_BATCH_SIZE is now 5 (version 2).');
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(5);
    const audit = await panelAudit(api, 'MAX_BATCH_SIZE');
    expect(audit.find((r) => r.status === 'success')).toMatchObject({
      channelId: 'panel',
      actor: { id: client.session.user.id },
    });
    // The one failed request is the refused value's (400, shown as the alert).
    expect(errors).toEqual([expect.stringContaining('status of 400')]);

    // The page with an open preview: axe in both schemes, and its screenshots. (Last: axe leaves
    // empty style attributes behind, which htmx would then copy under the CSP.)
    await input.fill('3');
    await row.getByRole('button', { name: 'Preview' }).click();
    await row.getByRole('heading', { name: 'Preview: MAX_BATCH_SIZE' }).waitFor();
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await checkAxe(page);
    }
    await screenshot(page, 'settings-preview');
    // The row alone at phone width (the whole page is too long to read there).
    await page.setViewportSize({ width: 375, height: 900 });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await row.screenshot({ path: path.join(SCREENSHOTS, `settings-preview-row-375-${scheme}.png`) });
    }
    await context.close();
  }, 60_000);
});
