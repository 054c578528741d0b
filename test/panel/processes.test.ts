import { render } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/panel/guard.js';
import { ProcessesLive } from '../../src/panel/processes.js';
import { startTestApi } from '../helpers/api.js';
import { checkAxe, noBrowser, openPage, screenshot, useBrowser } from '../helpers/browser.js';
import { loginPanel, panelIdentity } from '../helpers/panel.js';

const ALICE = { id: '100000000000000011', tag: 'alice' };

/** The page's text with markup taken out. */
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
/** The part of the page inside the section headed `id`. */
function section(html: string, id: string): string {
  const start = html.indexOf(`aria-labelledby="${id}"`);
  if (start < 0) throw new Error(`no section ${id}`);
  return text(html.slice(start, html.indexOf('</section>', start)));
}

describe('/panel/processes', () => {
  it('lists this process and another on the same database, and which applied a change', async () => {
    const api = await startTestApi('panel_processes');
    const other = await startTestApi('panel_processes_other', { dbName: api.env.MONGODB_DB_NAME });
    await api.runtime.config.set('MAX_BATCH_SIZE', '120', ALICE, 'bigger', { channelId: 'api' });
    const head = await api.runtime.config.changes.head();
    // Both processes report having applied it (each reports when its feed advances).
    await expect
      .poll(
        async () =>
          (await api.runtime.instances.list()).filter((i) => i.state === 'live' && i.applied >= head).length,
        { timeout: 10_000, interval: 100 },
      )
      .toBe(2);

    const member = await loginPanel(api, panelIdentity('member'));
    const html = await member.page('/panel/processes');
    const list = section(html, 'pr-list-h');
    for (const id of [api.runtime.instanceId, other.runtime.instanceId]) expect(list).toContain(id);
    expect(list).toContain(`#${head} of #${head}`);
    expect(list).toContain('up to date');
    const prop = section(html, 'pr-prop-h');
    expect(prop).toContain('MAX_BATCH_SIZE');
    expect(prop).toContain('2 of 2');
    expect(section(html, 'pr-restart-h')).toContain('Nothing');

    // htmx asks for the live part alone.
    const frag = await member.fetch('/panel/processes', { headers: { 'hx-request': 'true' } });
    const part = await frag.text();
    expect(part.startsWith('<div id="pr-live"')).toBe(true);
    expect(part).toContain(other.runtime.instanceId);
  });

  it('says which keys wait for a restart, and that the other processes are behind', () => {
    const now = new Date();
    const html = render(
      ProcessesLive({
        data: {
          now,
          head: 9,
          position: 9,
          pendingRestart: ['WORKER_THREADS'],
          propagation: [],
          jobs: [
            {
              name: 'daily-export',
              description: 'Writes the daily export',
              cron: '30 2 * * *',
              timezone: 'Europe/Paris',
              nextRun: new Date('2026-03-29T01:00:00Z'),
              running: false,
              paused: false,
              lastRun: { slot: now, startedAt: now, status: 'failed', error: 'disk full' },
              ranElsewhere: 1,
              completed: 3,
              failed: 1,
            },
          ],
          instances: [
            {
              id: 'host-1-abc',
              kind: 'bot',
              name: undefined,
              host: 'host',
              pid: 1,
              version: '1.0.0',
              applied: 7,
              appliedAt: now,
              startedAt: new Date(now.getTime() - 3_600_000),
              lastSeen: now,
              state: 'live',
            },
          ],
        },
      }),
    );
    expect(section(html, 'pr-restart-h')).toContain('WORKER_THREADS');
    expect(section(html, 'pr-list-h')).toContain('2 changes behind');
    expect(section(html, 'pr-list-h')).toContain('up 1 h');
    // The jobs as /config status shows them: schedule, next run, the last run's error, counts.
    const jobs = section(html, 'pr-jobs-h');
    expect(jobs).toContain('30 2 * * *');
    expect(jobs).toContain('2026-03-29 01:00 UTC');
    expect(jobs).toContain('disk full');
    expect(jobs).toContain('3 completed, 1 failed, 1 run by another process');
  });

  it('refuses a visitor without a session', async () => {
    const api = await startTestApi('panel_processes_refuse');
    expect((await fetch(`${api.url}/panel/processes`, { redirect: 'manual' })).status).toBe(401);
  });
});

describe.skipIf(noBrowser)('the processes page in the browser', () => {
  const held = useBrowser('panel processes');

  it('passes axe and is screenshotted', async () => {
    const api = await startTestApi('panel_processes_browser');
    await startTestApi('panel_processes_browser2', { dbName: api.env.MONGODB_DB_NAME });
    await api.runtime.config.set('MAX_BATCH_SIZE', '120', ALICE, 'bigger', { channelId: 'api' });
    await api.runtime.config.set('LOG_LEVEL', 'debug', ALICE, 'look closer', { channelId: 'api' });
    const admin = await loginPanel(api);
    const { context, page, errors } = await openPage(held.browser);
    await context.addCookies([{ name: SESSION_COOKIE, value: admin.cookie, url: api.url }]);
    await page.goto(`${api.url}/panel/processes`);
    await checkAxe(page);
    await screenshot(page, 'processes');
    expect(errors).toEqual([]);
    await context.close();
  });
});
