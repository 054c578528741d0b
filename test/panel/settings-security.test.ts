import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.js';
import { loginPanel } from '../helpers/panel.js';
import { apply, preview, previewAndApply, previewed, stored } from './settings-steps.js';

const XSS = '<img src=x onerror=alert(1)>';
// The renderer escapes `<` (and quotes in attributes): no tag can open. (`>` alone is harmless.)
const ESCAPED = '&lt;img src=x onerror=alert(1)';

describe('settings page: what users type, and requests from elsewhere', () => {
  it('shows a value or reason holding markup as text on every page that shows it', async () => {
    const api = await startTestApi('panel_set_xss');
    const admin = await loginPanel(api);

    const bad = await preview(admin, 'LOG_LEVEL', { value: XSS });
    const alert = await bad.text();
    expect(bad.status).toBe(400);
    expect(alert).toContain(ESCAPED);
    expect(alert).not.toContain('<img');

    const edit = { value: 'debug', scope: 'env:staging', for: '2h', reason: XSS };
    const done = await previewAndApply(admin, 'LOG_LEVEL', edit);
    expect(done.status).toBe(200);
    const pages = {
      result: await done.text(),
      settings: await admin.page('/panel'),
      row: await admin.page('/panel/settings/LOG_LEVEL/row'),
    };
    for (const [name, html] of Object.entries(pages)) {
      expect(html, name).toContain(ESCAPED);
      expect(html, name).not.toContain('<img');
    }
    // The page without script (a plain form post) escapes it too.
    const plain = await admin.fetch('/panel/settings/MAX_BATCH_SIZE/preview', {
      form: { value: '50', scope: 'global', reason: XSS, for: '', at: '' },
    });
    const page = await plain.text();
    expect(plain.status).toBe(200);
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain(`value="${ESCAPED}`);
    expect(page).not.toContain('<img');
  });

  it('refuses an apply without the form token: 403, nothing stored', async () => {
    const api = await startTestApi('panel_set_csrf');
    const admin = await loginPanel(api);
    const edit = { value: 'debug', scope: 'env:staging' };
    const shown = previewed(await (await preview(admin, 'LOG_LEVEL', edit)).text());
    const before = await stored(api);
    const res = await apply(admin, 'LOG_LEVEL', edit, shown, { csrf: false });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('role="alert"');
    expect(await stored(api)).toBe(before);
    // The same request with its token goes through (the refusal was the token's).
    expect((await apply(admin, 'LOG_LEVEL', edit, shown)).status).toBe(200);
  });

  it('refuses an apply from another origin: 403, nothing stored', async () => {
    const api = await startTestApi('panel_set_origin');
    const admin = await loginPanel(api);
    const edit = { value: 'debug', scope: 'env:staging' };
    const shown = previewed(await (await preview(admin, 'LOG_LEVEL', edit)).text());
    const before = await stored(api);
    const res = await apply(admin, 'LOG_LEVEL', edit, shown, { origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    expect(await stored(api)).toBe(before);
    expect((await apply(admin, 'LOG_LEVEL', edit, shown)).status).toBe(200);
  });

  it('works as plain forms without script: the preview and the result are whole pages', async () => {
    const api = await startTestApi('panel_set_plain');
    const admin = await loginPanel(api);
    const form = { value: 'debug', scope: 'env:staging', reason: '', for: '', at: '' };
    const p = await admin.fetch('/panel/settings/LOG_LEVEL/preview', { form });
    const html = await p.text();
    expect(html).toContain('<title>Change LOG_LEVEL · config-bot</title>');
    expect(html).toMatch(/<details open>/);
    expect(html).toContain('value="debug"');
    const done = await admin.fetch('/panel/settings/LOG_LEVEL/apply', {
      form: { ...form, ...previewed(html) },
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Saved: LOG_LEVEL at env:staging is now <code>debug</code>');
  });
});
