import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

/** Debian's Chromium (apt-get install chromium; .ci/run installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export const noBrowser: string | undefined = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing (Debian: apt-get install chromium)`;

/** Where screenshots go (git ignores it); the lead and reviewers look at them. */
export const SCREENSHOTS = path.resolve('test-results/panel-screenshots');

/** The widths screenshots are taken at: a desktop and a small phone. */
export const WIDTHS = [1440, 375] as const;

export type Scheme = 'light' | 'dark';

/**
 * One Chromium for the calling test file, launched before its tests and closed after them.
 * Without Chromium, says so in one line (the tests skip with `describe.skipIf(noBrowser)`).
 */
export function useBrowser(label: string): { readonly browser: Browser } {
  const held: { browser?: Browser } = {};
  // Said when the file is collected: a file whose tests all skip runs no hooks.
  if (noBrowser) process.stderr.write(`${label} SKIPPED: ${noBrowser}\n`);
  beforeAll(async () => {
    if (noBrowser) return;
    held.browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await held.browser?.close();
  });
  return {
    get browser() {
      if (!held.browser) throw new Error('The browser is not running');
      return held.browser;
    },
  };
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught exceptions and failed requests seen so far (CSP violations among them). */
  errors: string[];
  /** Every address the page requested (documents, scripts, styles, images, streams). */
  requests: string[];
}

/** A new context and page at `width` px, in the given colour scheme and time zone, its errors and requests collected. */
export async function openPage(
  browser: Browser,
  opts: { width?: number; scheme?: Scheme; timezoneId?: string } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1440, height: 900 },
    colorScheme: opts.scheme ?? 'light',
    ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}),
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  // A navigation aborts the requests still open (the live event stream): not a failure.
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? '';
    if (why !== 'net::ERR_ABORTED') errors.push(`request failed: ${r.url()} ${why}`);
  });
  return { context, page, errors, requests };
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

interface AxeViolation {
  id: string;
  impact?: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * Runs axe-core on the page and throws on any serious or critical violation, naming each rule
 * and the elements it found. axe is evaluated through the DevTools protocol, which the page's
 * CSP (no inline script) does not govern, so the page is tested under its real policy.
 */
export async function checkAxe(page: Page): Promise<void> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate('typeof window.axe');
  if (loaded !== 'object') await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    "window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)",
  )) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length > 0)
    throw new Error(
      `axe found ${bad.length} serious or critical problem(s) on ${page.url()}:\n` +
        bad
          .map(
            (v) =>
              `- ${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => JSON.stringify(n.target)).join('\n    ')}`,
          )
          .join('\n'),
    );
}

/**
 * Screenshots of the page as it is, at each of WIDTHS, light and dark, into SCREENSHOTS as
 * `<name>-<width>-<scheme>.png` (full page). Leaves the page at 1440 px, light.
 */
export async function screenshot(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const saved: string[] = [];
  for (const width of WIDTHS)
    for (const scheme of ['light', 'dark'] as const) {
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ colorScheme: scheme });
      const file = path.join(SCREENSHOTS, `${name}-${width}-${scheme}.png`);
      await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
      saved.push(file);
    }
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.emulateMedia({ colorScheme: 'light' });
  return saved;
}
