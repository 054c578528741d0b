import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SESSION_COOKIE } from '../../src/panel/guard.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { checkAxe, noBrowser, openPage, screenshot, useBrowser } from '../helpers/browser.js';
import { actor } from '../helpers/db.js';
import { loginPanel } from '../helpers/panel.js';

const chrome = useBrowser('panel flags browser tests');

/** Flags with every part filled in, and a day of hourly evaluations. */
async function seeded(api: TestApi): Promise<void> {
  const flags = api.runtime.flags;
  await flags.create(
    {
      name: 'new-checkout',
      description: 'The new checkout flow',
      type: 'release',
      owner: 'payments',
      enabled: true,
      environments: ['production', 'staging'],
      rollout: 25,
      conditions: [
        { attribute: 'plan', operator: 'in', values: ['pro', 'team'] },
        {
          attribute: 'email',
          operator: 'ends_with',
          values: ['@example.com'],
          inverted: true,
          caseInsensitive: true,
        },
      ],
      include: { users: ['300000000000000001'] },
      variants: [
        {
          name: 'blue',
          weight: 500,
          payload: { type: 'json', value: '{"steps":2}' },
          overrides: [{ attribute: 'plan', values: ['enterprise'] }],
        },
        { name: 'green', weight: 500 },
      ],
      errorThreshold: { errors: 10, windowMs: 300_000 },
    },
    actor(),
  );
  await flags.create(
    { name: 'maintenance', description: 'Read-only mode', type: 'ops', owner: 'ops' },
    actor(),
  );
  const now = Date.now();
  for (let h = 0; h < 24; h += 3)
    await flags.usage.add(
      { 'new-checkout': { rollout_in: 10 + h, rollout_out: 30 - h, condition_failed: 4 } },
      new Date(now - h * 3_600_000),
    );
}

/** axe in light and dark, no horizontal scroll at 375 px, then the screenshots. */
async function review(page: Page, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await checkAxe(page);
  }
  await page.setViewportSize({ width: 375, height: 900 });
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(scroll, `${name} is wider than the screen`).toBeLessThanOrEqual(client);
  await screenshot(page, name);
}

describe.skipIf(noBrowser)('the flags pages in Chromium', () => {
  it('lists flags, explains an evaluation in place, refuses then saves a rollout edit', async () => {
    const api = await startTestApi('panel_flags_browser');
    await seeded(api);
    const client = await loginPanel(api);
    const { page, errors, context } = await openPage(chrome.browser);
    const { hostname } = new URL(api.url);
    await context.addCookies([
      {
        name: SESSION_COOKIE,
        value: client.cookie,
        domain: hostname,
        path: '/',
        httpOnly: true,
        sameSite: 'Lax',
      },
    ]);
    await page.goto(`${api.url}/panel/flags`, { waitUntil: 'load' });
    await review(page, 'flags');
    await page.getByRole('link', { name: 'Create a flag' }).click();
    await page.waitForURL(`${api.url}/panel/new-flag`);
    await review(page, 'flag-create');
    await page.goto(`${api.url}/panel/flags`, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'new-checkout' }).click();
    await page.waitForURL(`${api.url}/panel/flags/new-checkout`);

    // The playground answers in place (htmx), without leaving the page.
    await page.getByLabel('User id').fill('300000000000000001');
    await page.getByLabel('Attributes').fill('plan=free');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await expect
      .poll(() => page.locator('#playground-result').textContent())
      .toContain('user 300000000000000001 is included');
    expect(page.url()).toBe(`${api.url}/panel/flags/new-checkout`);
    await review(page, 'flag');

    // A refused edit: the alert next to the field, the typed value kept, nothing stored.
    await page.locator('#r-rollout').fill('150');
    await page.getByRole('button', { name: 'Save rollout' }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('#err-rollout').textContent()).toBe('must be from 0 to 100');
    expect(await page.locator('#r-rollout').inputValue()).toBe('150');
    expect(api.runtime.flags.get('new-checkout')?.version).toBe(1);
    await review(page, 'flag-refused');

    await page.locator('#r-rollout').fill('40');
    await page.getByRole('button', { name: 'Save rollout' }).click();
    await page.waitForLoadState('load');
    expect(await page.getByRole('status').first().textContent()).toContain(
      'Saved as version 2: rollout: 25% → 40%',
    );
    expect(api.runtime.flags.get('new-checkout')?.flag.rollout).toBe(40);
    const audit = await api.runtime.config.auditLog({ key: 'flag:new-checkout', channelId: 'panel' });
    expect(audit.filter((r) => r.status === 'success')).toHaveLength(1);
    expect(errors.filter((e) => !/\b400\b/.test(e))).toEqual([]);
    await context.close();
  });
});
