import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import type { FlagInput } from '@config-bot/client/flags';
import { ApprovalRequired } from '../../src/approvals/gate.js';
import { ChangeFeed } from '../../src/changes/feed.js';
import { InstanceStore } from '../../src/changes/instances.js';
import { integer } from '../../src/config/kinds.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { FlagStore } from '../../src/flags/flags.js';
import { dashboardData } from '../../src/panel/dashboard-data.js';
import { duration } from '../../src/panel/dashboard-tables.js';
import { DashboardsPage } from '../../src/panel/dashboards.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { openService, openTestDb } from '../helpers/db.js';
import { loginPanel, panelIdentity } from '../helpers/panel.js';
import { checkAxe, noBrowser, openPage, screenshot, useBrowser } from '../helpers/browser.js';
import { SESSION_COOKIE } from '../../src/panel/guard.js';

const ALICE = { id: '100000000000000011', tag: 'alice' };
const CTX = { channelId: 'api' };
const FLAG: FlagInput = {
  name: 'new-checkout',
  description: 'The new checkout',
  type: 'release',
  owner: 'payments',
  enabled: true,
  environments: ['production', 'staging'],
};

/** The text of the page with its markup taken out (entities left as they are). */
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
/** The part of the page inside the section headed `id`. */
function section(html: string, id: string): string {
  const start = html.indexOf(`aria-labelledby="${id}"`);
  if (start < 0) throw new Error(`no section ${id}`);
  return text(html.slice(start, html.indexOf('</section>', start)));
}

/** Changes, a failed and a denied attempt, a change request, reads and flag evaluations. */
async function seeded(api: TestApi): Promise<void> {
  const { config } = api.runtime;
  await config.set('MAX_BATCH_SIZE', '120', ALICE, 'bigger', CTX);
  await config.set('MAX_BATCH_SIZE', '130', ALICE, 'bigger still', CTX);
  await config.set('MAX_BATCH_SIZE', '50', ALICE, 'staging is small', CTX, { scope: 'env:staging' });
  await expect(config.set('MAX_BATCH_SIZE', '5000', ALICE, 'too big', CTX)).rejects.toThrow();
  // A read token may not write: the API refuses it, audited as denied.
  const reader = await api.token('read', { name: 'dashboard-reader' });
  const refused = await api.call('/v1/config/MAX_BATCH_SIZE', {
    method: 'PUT',
    token: reader,
    json: { value: 7 },
  });
  expect(refused.status).toBe(403);
  try {
    await config.set('AI_CONFIDENCE_THRESHOLD', '0.9', ALICE, 'tuning', CTX);
    throw new Error('approvals are not on');
  } catch (err) {
    if (!(err instanceof ApprovalRequired)) throw err;
  }
  for (let i = 0; i < 3; i++) await api.call('/v1/config/LOG_LEVEL', { token: reader });
  await api.runtime.flags.create(FLAG, ALICE);
  for (let i = 0; i < 4; i++)
    await api.call(`/v1/flags/${FLAG.name}/evaluate`, { method: 'POST', token: reader, json: {} });
}

describe('GET /panel/dashboards', () => {
  it('shows each figure from the data: changes, changers and denials, requests, reads, propagation, evaluations, health', async () => {
    const api = await startTestApi('panel_dash', { vars: { APPROVALS_REQUIRED: 'high:1' } });
    await seeded(api);
    // The denied row is written in the background of the refusal.
    await expect.poll(async () => (await api.runtime.config.auditLog({ status: 'denied' })).length).toBe(1);
    // Stored by the process's periodic report (10 s), or at once here.
    await api.stop();
    const again = await startTestApi('panel_dash_2', { dbName: api.env.MONGODB_DB_NAME });
    const token = await again.token('read');
    for (let i = 0; i < 3; i++) await again.call('/v1/config/LOG_LEVEL', { token });
    const html = await (await loginPanel(again, panelIdentity('member'))).page('/panel/dashboards');

    expect(section(html, 'changes')).toContain('4 changes in 14 days: global 2, staging 1, flags 1.');
    // alice: 3 values and a flag committed, one attempt failed validation; the read token denied.
    expect(section(html, 'changers')).toContain('alice: 4 committed, 0 denied, 1 failed');
    expect(section(html, 'changers')).toContain(
      'api token dashboard-reader: 0 committed, 1 denied, 0 failed',
    );
    const requests = section(html, 'requests');
    expect(requests).toMatch(/CR-[A-Z0-9]{5} set by alice/);
    expect(requests).toContain('AI_CONFIDENCE_THRESHOLD 0 of 1');
    expect(requests).toMatch(/ (\d+ s|1 min) since /);
    // The reads the new process's API served (its counts start with it).
    const metrics = await (await fetch(`${again.url}/metrics`)).text();
    const reads = Number(/^config_api_reads_total\{key="LOG_LEVEL"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(section(html, 'reads')).toContain(
      `Most-read keys: reads served by this process's API since it started LOG_LEVEL ${reads}`,
    );
    expect(section(html, 'reads')).toContain('Cache hit ratio:');
    // The latest change first: the flag, applied by the one live process.
    const propagation = section(html, 'propagation');
    expect(propagation).toMatch(/flag:new-checkout v1 global · create by alice · #\d+ .* 1 of 1/);
    expect(propagation).toMatch(/MAX_BATCH_SIZE v1 env:staging · set by alice/);
    // Counted by the first process, stored, and read back by the second.
    expect(section(html, 'flags')).toContain('4 evaluations in 24 hours: rollout_in 4.');
    expect(section(html, 'flags')).toContain('4 evaluations in 7 days: rollout_in 4.');
    const health = section(html, 'health');
    expect(health).toMatch(/Database connected · one read took \d+ ms/);
    // The first process stopped, the second live and up to date.
    expect(health).toMatch(/\(api\) [^#]* pid \d+ stopped #\d+/);
    expect(health).toMatch(/\(api\) [^#]* pid \d+ live #\d+ \(up to date\)/);
    expect(section(html, 'restarts')).toContain('No change is waiting for a restart of this process.');
  });

  it('shows a self-service admin the changes of other servers without their ids', async () => {
    const api = await startTestApi('panel_dash_selfservice');
    const elsewhere = 'guild:900000000000000099';
    await api.runtime.config.set('MAX_BATCH_SIZE', '60', ALICE, 'their server', CTX, { scope: elsewhere });
    const own = section(
      await (await loginPanel(api, panelIdentity('selfservice'))).page('/panel/dashboards'),
      'propagation',
    );
    expect(own).toContain('MAX_BATCH_SIZE v1 another server · set by alice');
    expect(own).not.toContain('900000000000000099');
    const admin = section(await (await loginPanel(api)).page('/panel/dashboards'), 'propagation');
    expect(admin).toContain(`MAX_BATCH_SIZE v1 ${elsewhere} · set by alice`);
  });

  it('refuses a visitor without a session', async () => {
    const api = await startTestApi('panel_dash_refuse');
    const res = await fetch(`${api.url}/panel/dashboards`, { redirect: 'manual' });
    expect(res.status).toBe(401);
  });

  it('lists the keys changed that wait for a restart of this process', async () => {
    const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
    defs.WORKER_THREADS = {
      ...integer({ min: 1, max: 64 }),
      category: 'system',
      description: 'Worker threads, read at start-up',
      default: 4,
      sensitive: false,
      requiresRestart: true,
    } as KeyDefinition;
    const db = await openTestDb('panel_dash_restart');
    const config = await openService(db, { registry: buildRegistry(defs) });
    try {
      const sources = {
        config,
        feed: new ChangeFeed(config),
        instances: new InstanceStore(db.conn, 60_000),
        flags: new FlagStore(config),
      };
      const before = await dashboardData(sources);
      expect(before.pendingRestart).toEqual([]);
      await config.set('WORKER_THREADS', '8', ALICE, 'more', CTX);
      const d = await dashboardData(sources);
      const session = { user: ALICE, access: 'read', csrf: 'x' } as never;
      const html = render(DashboardsPage({ d, session }));
      expect(section(html, 'restarts')).toContain(
        '1 key was changed but takes effect only when this process restarts: WORKER_THREADS',
      );
    } finally {
      await config.close();
      await db.drop();
    }
  });

  it('says durations in the two largest units', () => {
    expect([45_000, 180_000, 7_500_000, 3 * 86_400_000 + 4 * 3_600_000].map(duration)).toEqual([
      '45 s',
      '3 min',
      '2 h 5 min',
      '3 d 4 h',
    ]);
  });
});

describe.skipIf(noBrowser)('the dashboards in the browser', () => {
  const held = useBrowser('panel dashboards');

  it('reads well at 1440 and 375 px, light and dark (axe, screenshots), and follows changes live', async () => {
    const api = await startTestApi('panel_dash_shots', { vars: { APPROVALS_REQUIRED: 'high:1' } });
    await seeded(api);
    // A week of evaluations as processes report them, so the charts have something to draw.
    const now = Date.now();
    for (let h = 0; h < 7 * 24; h += 5)
      await api.runtime.flags.usage.add(
        { [FLAG.name]: { rollout_in: 40 + (h % 24), rollout_out: 12 + (h % 7), disabled: h % 3 } },
        new Date(now - h * 3_600_000),
      );
    const client = await loginPanel(api);
    const { context, page, errors } = await openPage(held.browser);
    await context.addCookies([{ name: SESSION_COOKIE, value: client.cookie, url: api.url }]);
    await page.goto(`${api.url}/panel/dashboards`);
    expect(await page.locator('figure.chart svg').count()).toBeGreaterThanOrEqual(3);
    // The charts take their colours from the theme: a bar's fill differs between light and dark.
    const fill = () =>
      page
        .locator('figure.chart rect.c0')
        .first()
        .evaluate((r) => getComputedStyle(r).fill);
    const light = await fill();
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await fill()).not.toBe(light);
    await page.emulateMedia({ colorScheme: 'light' });
    await checkAxe(page);
    await page.emulateMedia({ colorScheme: 'dark' });
    await checkAxe(page);
    await page.emulateMedia({ colorScheme: 'light' });
    await screenshot(page, 'dashboards');

    // A change made by another process shows in the figures without a reload.
    const summary = page.locator('#changes-chart-desc');
    expect(await summary.textContent()).toContain('4 changes in 14 days');
    await page.evaluate('window.__sameDocument = true');
    const other = await startTestApi('panel_dash_other', { dbName: api.env.MONGODB_DB_NAME, report: false });
    await other.runtime.config.set('LOG_LEVEL', 'debug', ALICE, 'look closer', CTX);
    await expect.poll(() => summary.textContent(), { timeout: 5000 }).toContain('5 changes in 14 days');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});
