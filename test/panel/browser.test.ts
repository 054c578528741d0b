import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startTestApi, type TestApi } from '../helpers/api.js';
import {
  checkAxe,
  noBrowser,
  openPage,
  screenshot,
  useBrowser,
  type WatchedPage,
} from '../helpers/browser.js';
import { loginPanel, panelIdentity, panelLink } from '../helpers/panel.js';
import { SESSION_COOKIE } from '../../src/panel/guard.js';
import { newSigningKeyText } from '../../src/audit/signing.js';
import { actor } from '../helpers/db.js';

const chrome = useBrowser('panel browser tests');

/** A page whose browser holds a logged-in session of `api` (made with a one-time link). */
async function loggedIn(api: TestApi, kind: 'admin' | 'member' = 'admin'): Promise<WatchedPage> {
  const client = await loginPanel(api, panelIdentity(kind));
  // A time zone other than UTC, so times shown in the viewer's zone differ from the server's.
  const watched = await openPage(chrome.browser, { timezoneId: 'America/New_York' });
  const { hostname } = new URL(api.url);
  await watched.context.addCookies([
    {
      name: SESSION_COOKIE,
      value: client.cookie,
      domain: hostname,
      path: '/',
      httpOnly: true,
      sameSite: 'Lax',
    },
  ]);
  return watched;
}

/** Opens `url`, expecting `status`, and waits until the page's scripts have run. */
async function visit(page: Page, url: string, status = 200): Promise<void> {
  const res = await page.goto(url, { waitUntil: 'load' });
  expect(res?.status(), url).toBe(status);
}

/** No horizontal scrolling of the whole page (wide tables scroll inside their own box). */
async function fitsWidth(page: Page): Promise<void> {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(scroll, `${page.url()} is wider than the screen`).toBeLessThanOrEqual(client);
}

/** axe in both colour schemes (contrast differs), at the phone width too, then the screenshots. */
async function review(page: Page, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await checkAxe(page);
  }
  await page.setViewportSize({ width: 375, height: 900 });
  await fitsWidth(page);
  await screenshot(page, name);
}

describe.skipIf(noBrowser)('the panel in Chromium', () => {
  it('logs in with a one-time link by its button, and refuses the link once used', async () => {
    const api = await startTestApi('panel_browser_login');
    const link = await panelLink(api);
    const { page, errors, context } = await openPage(chrome.browser);
    await visit(page, link);
    await expect(page.getByText('This link logs in admin as an admin. It works once.')).toBeTruthy();
    await review(page, 'login');
    await page.getByRole('button', { name: 'Log in as admin' }).click();
    await page.waitForURL(`${api.url}/panel`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Settings');
    // The browser holds the session as an HttpOnly cookie the page's script cannot read.
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === SESSION_COOKIE)).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(await page.evaluate(() => document.cookie)).toBe('');

    await visit(page, link, 410);
    expect(await page.getByRole('alert').textContent()).toContain('This login link was used already');
    await review(page, 'login-used');
    expect(errors.filter((e) => !e.includes('410'))).toEqual([]);
    await context.close();
  });

  it('shows every page without errors, passing axe in light and dark, fitting 375 px', async () => {
    const api = await startTestApi('panel_browser_pages');
    const { page, errors, requests, context } = await loggedIn(api);
    await visit(page, `${api.url}/panel`);
    // Every page of the navigation, and a key's history.
    const nav = await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link')
      .evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).pathname));
    expect(nav).toContain('/panel');
    for (const path of [...nav, '/panel/history/LOG_LEVEL']) {
      await visit(page, `${api.url}${path}`);
      expect(await page.getByRole('heading', { level: 1 }).count(), path).toBe(1);
      await review(page, path.replace(/^\/panel\/?/, '').replace(/\//g, '-') || 'settings');
      await page.setViewportSize({ width: 1440, height: 900 });
      expect(errors, path).toEqual([]);
    }
    await visit(page, `${api.url}/panel/no-such-page`, 404);
    await review(page, 'not-found');
    await page.setViewportSize({ width: 1440, height: 900 });
    // Times are shown in the viewer's time zone, with UTC kept on hover.
    await visit(page, `${api.url}/panel`);
    const time = page.locator('time[datetime]').first();
    const utc = await time.getAttribute('title');
    expect(utc).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    const at = new Date(`${(utc ?? '').replace(' UTC', '').replace(' ', 'T')}Z`);
    const local = at.toLocaleTimeString('en-US', {
      timeZone: 'America/New_York',
      hour: 'numeric',
      minute: '2-digit',
    });
    expect(await time.textContent()).toContain(local);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForLoadState('load');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Logged out');
    await review(page, 'logged-out');
    await visit(page, `${api.url}/panel`, 401);
    await review(page, 'not-logged-in');
    expect(errors.filter((e) => !/\b(401|404)\b/.test(e))).toEqual([]);
    // Nothing was loaded from anywhere but the panel's own server.
    expect(requests.filter((u) => !u.startsWith(`${api.url}/`) && !u.startsWith('data:'))).toEqual([]);
    expect(requests.length).toBeGreaterThan(10);
    await context.close();
  });

  it('verifies the audit log in place from the audit page, each break named, passing axe', async () => {
    const api = await startTestApi('panel_browser_verify', {
      vars: { AUDIT_SIGNING_KEY: newSigningKeyText() },
    });
    const svc = api.runtime.config;
    await svc.trail.begin();
    for (let i = 0; i < 3; i++) await svc.set('MAX_BATCH_SIZE', String(800 + i), actor());
    await svc.trail.checkpoint();
    const rows = svc.conn.collection('config_audit_logs');
    const victim = await rows.findOne({ seq: 3 });
    await rows.updateOne({ _id: victim!._id }, { $set: { reason: 'edited through the driver' } });

    const { page, errors, context } = await loggedIn(api, 'member');
    await visit(page, `${api.url}/panel/audit`);
    await page.getByRole('button', { name: 'Verify the log' }).click();
    const result = page.locator('#verify-result');
    await expect
      .poll(() => result.getByRole('heading', { level: 3 }).textContent())
      .toMatch(/^Audit log altered/);
    // Filled in place by htmx: the page did not change.
    expect(new URL(page.url()).pathname).toBe('/panel/audit');
    expect(await result.getByRole('listitem').allTextContents()).toEqual([
      `row 3 (id ${String(victim!._id)}): content edited; it no longer matches the hash the chain recorded for it`,
    ]);
    await review(page, 'audit-verify');
    // The same check as a page of its own, as the form opens it without script.
    await page.setViewportSize({ width: 1440, height: 900 });
    await visit(page, `${api.url}/panel/audit/verify?from=2`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Audit log check');
    await checkAxe(page);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('works by keyboard: Tab reaches the skip link first, then the navigation', async () => {
    const api = await startTestApi('panel_browser_keys');
    const { page, context } = await loggedIn(api, 'member');
    await visit(page, `${api.url}/panel`);
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        const box = el?.getBoundingClientRect();
        return {
          text: el?.textContent?.trim() ?? '',
          tag: el?.tagName ?? '',
          id: el?.id ?? '',
          inNav: Boolean(el?.closest('nav')),
          visible: Boolean(box && box.width > 0 && box.left >= 0 && box.top >= 0),
          outline: el ? getComputedStyle(el).outlineStyle : '',
        };
      });
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ text: 'Skip to content', visible: true, outline: 'solid' });
    await page.keyboard.press('Enter');
    expect(await focused()).toMatchObject({ tag: 'MAIN', id: 'main' });

    await visit(page, `${api.url}/panel`);
    const reached: string[] = [];
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      const f = await focused();
      if (!f.inNav && reached.length > 0) break;
      if (f.inNav) {
        expect(f).toMatchObject({ visible: true, outline: 'solid' });
        reached.push(f.text);
      }
    }
    const labels = await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link')
      .evaluateAll((links) => links.map((a) => a.textContent?.trim() ?? ''));
    expect(reached).toEqual(labels);
    await context.close();
  });
});
