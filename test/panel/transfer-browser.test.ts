import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/panel/guard.js';
import { buildExport } from '../../src/transfer/export-file.js';
import { startTestApi } from '../helpers/api.js';
import { checkAxe, noBrowser, openPage, screenshot, useBrowser } from '../helpers/browser.js';
import { loginPanel } from '../helpers/panel.js';

const chrome = useBrowser('panel snapshot and transfer browser tests');
const bob = { id: '200000000000000002', tag: 'bob' };

/** axe in both schemes, then screenshots at each width and scheme. */
async function look(page: Page, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await checkAxe(page);
  }
  await screenshot(page, name);
}

describe.skipIf(noBrowser)('snapshots, export and import in Chromium', () => {
  it('takes, compares and restores a snapshot, and imports a chosen file, each page passing axe', async () => {
    const api = await startTestApi('panel_transfer_browser');
    const config = api.runtime.config;
    await config.set('MAX_BATCH_SIZE', '200', bob);
    const client = await loginPanel(api);
    const { context, page, errors } = await openPage(chrome.browser);
    await context.addCookies([
      { name: SESSION_COOKIE, value: client.cookie, domain: new URL(api.url).hostname, path: '/' },
    ]);
    page.setDefaultTimeout(5000);

    await page.goto(`${api.url}/panel/snapshots`, { waitUntil: 'load' });
    await page.getByLabel('Name').fill('before-raise');
    await page.getByLabel('Description (optional)').fill('MAX_BATCH_SIZE at 200');
    await page.getByRole('button', { name: 'Create snapshot' }).click();
    await page.getByText('Snapshot before-raise created').waitFor();
    await look(page, 'snapshot-view');

    await config.set('MAX_BATCH_SIZE', '300', bob);
    await page.goto(`${api.url}/panel/snapshots`, { waitUntil: 'load' });
    await look(page, 'snapshots');
    await page.goto(`${api.url}/panel/snapshots/before-raise/diff?against=now`, { waitUntil: 'load' });
    await look(page, 'snapshot-diff');

    await page.goto(`${api.url}/panel/snapshots/before-raise`, { waitUntil: 'load' });
    await page.getByRole('button', { name: 'Preview the restore' }).click();
    await page.getByRole('heading', { name: 'Restore snapshot before-raise?' }).waitFor();
    await look(page, 'snapshot-restore-preview');
    await page.getByRole('button', { name: 'Confirm the restore' }).click();
    await page.getByRole('heading', { name: 'Restored snapshot before-raise' }).waitFor();
    expect(config.get('MAX_BATCH_SIZE')).toBe(200);

    await page.goto(`${api.url}/panel/export`, { waitUntil: 'load' });
    await look(page, 'export');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download the export' }).click();
    expect((await download).suggestedFilename()).toMatch(/^config-export-.*\.json$/);

    // The file input is read into the form by panel.js; the form posts as a plain form.
    const { file } = await buildExport(config);
    (file.keys.MAX_BATCH_SIZE as { values: Record<string, unknown> }).values.global = {
      value: 350,
      version: 1,
    };
    (file.keys.LOG_LEVEL as { values: Record<string, unknown> }).values.global = {
      value: 'loud',
      version: 1,
    };
    const chosen = path.join(mkdtempSync(path.join(tmpdir(), 'panel-import-')), 'edited.json');
    writeFileSync(chosen, JSON.stringify(file, null, 2));
    await page.goto(`${api.url}/panel/import`, { waitUntil: 'load' });
    await look(page, 'import');
    await page.getByLabel('Export file').setInputFiles(chosen);
    await expect
      .poll(() => page.getByLabel("The file's text (JSON)").inputValue())
      .toContain('config-bot-export');
    await page.getByRole('button', { name: 'Check it (dry run)' }).click();
    await page.getByRole('heading', { name: 'Dry run: import of edited.json' }).waitFor();
    await look(page, 'import-dry-run');
    expect(config.get('MAX_BATCH_SIZE')).toBe(200);
    await page.getByRole('button', { name: 'Apply 1 change' }).click();
    await page.getByRole('heading', { name: 'Imported 1 of 1 changes from edited.json' }).waitFor();
    expect(config.get('MAX_BATCH_SIZE')).toBe(350);
    expect(errors).toEqual([]);
  });
});
