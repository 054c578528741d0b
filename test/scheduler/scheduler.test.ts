import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigService } from '../../src/config/service.js';
import { JobRuns } from '../../src/storage/job-runs.js';
import { statusEmbed } from '../../src/discord/config/status.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import type { JobDefinition } from '../../src/jobs/types.js';
import { actor, openService, openTestDb, type TestDb } from '../helpers/db.js';
import { captureLogs } from '../helpers/logs.js';
import { registryWithTestCron } from '../helpers/registry.js';
import { outcome } from '../helpers/outcome.js';

// Real timers throughout: schedules use node-cron's seconds field (every second).
let db: TestDb;
let svc: ConfigService;
let scheduler: Scheduler | undefined;
const admin = actor();

beforeEach(async () => {
  db = await openTestDb('scheduler');
  svc = await openService(db, { registry: registryWithTestCron() });
});
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
  await svc.close();
  await db.drop();
});

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
  return Date.now() - started;
}

function testJob(run: JobDefinition['run']): JobDefinition {
  return {
    name: 'test-job',
    description: 'test',
    scheduleKeys: ['TEST_CRON'],
    cron: (c) => String(c.get('TEST_CRON')),
    run,
  };
}

async function start(job: JobDefinition, alert?: (t: string) => Promise<void>): Promise<Scheduler> {
  scheduler = new Scheduler({
    config: svc,
    runs: new JobRuns(db.conn),
    jobs: [job],
    instanceId: 'test',
    ...(alert ? { alert } : {}),
  });
  await scheduler.start();
  return scheduler;
}

const jobStatus = () => scheduler?.status()[0];

describe('scheduler', () => {
  it('reschedules within a second of a committed change, logs the next run, and then runs', async () => {
    let runs = 0;
    const s = await start(
      testJob(async () => {
        runs++;
      }),
    );
    expect(jobStatus()?.cron).toBe('0 0 1 1 *');
    const logs = captureLogs();
    const committed = Date.now();
    expect((await outcome(svc.set('TEST_CRON', '* * * * * *', admin))).ok).toBe(true);
    await until(() => jobStatus()?.cron === '* * * * * *', 1000, 'reschedule');
    expect(Date.now() - committed).toBeLessThan(1000);
    const next = s.status()[0]?.nextRun?.getTime() ?? 0;
    expect(next - Date.now()).toBeLessThanOrEqual(1000);
    expect(logs.lines.join()).toMatch(
      /Job test-job scheduled: \\"\* \* \* \* \* \*\\" \(UTC\), next run 20\d\d-/,
    );
    logs.stop();
    await until(() => runs > 0, 2500, 'a run');
    expect(jobStatus()?.lastRun?.status).toBe('completed');
  });

  it('reschedules every job when SCHEDULE_TIMEZONE changes', async () => {
    await start(testJob(async () => undefined));
    await svc.set('SCHEDULE_TIMEZONE', 'Asia/Tokyo', admin);
    expect(jobStatus()?.timezone).toBe('Asia/Tokyo');
  });

  it('a change during a run reschedules after the run; runs never overlap', async () => {
    await svc.set('TEST_CRON', '* * * * * *', admin);
    let active = 0;
    let maxActive = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    await start(
      testJob(async () => {
        calls++;
        active++;
        maxActive = Math.max(maxActive, active);
        if (calls === 1) await gate; // the first run lasts until the test lets it go
        active--;
      }),
    );
    await until(() => jobStatus()?.running === true, 2500, 'the first run');
    await svc.set('TEST_CRON', '*/2 * * * * *', admin);
    await sleep(1500); // ticks fall while the run is still going: skipped, not overlapped
    expect(jobStatus()?.cron).toBe('* * * * * *');
    release();
    await until(() => jobStatus()?.cron === '*/2 * * * * *', 1000, 'reschedule after the run');
    await until(() => calls >= 2, 3000, 'a later run');
    expect(maxActive).toBe(1);
  });

  it('MAINTENANCE_MODE pauses every job until it is off again', async () => {
    let runs = 0;
    await svc.set('MAINTENANCE_MODE', 'on', admin);
    await svc.set('TEST_CRON', '* * * * * *', admin);
    await start(
      testJob(async () => {
        runs++;
      }),
    );
    expect(jobStatus()?.paused).toBe(true);
    await sleep(2200);
    expect(runs).toBe(0);
    await svc.set('MAINTENANCE_MODE', 'off', admin);
    await until(() => runs > 0, 2500, 'a run after maintenance');
  });

  it('a failing run is logged, recorded and alerted, and the scheduler keeps going', async () => {
    await svc.set('TEST_CRON', '* * * * * *', admin);
    const alerts: string[] = [];
    let calls = 0;
    const logs = captureLogs();
    await start(
      testJob(async () => {
        calls++;
        if (calls === 1) throw new Error('export target unreachable');
      }),
      async (t) => void alerts.push(t),
    );
    await until(() => calls >= 2, 4000, 'a run after the failure');
    logs.stop();
    expect(alerts[0]).toMatch(/Job \*\*test-job\*\* failed .*export target unreachable/);
    expect(
      logs.lines.some((l) => l.includes('Job test-job failed') && l.includes('export target unreachable')),
    ).toBe(true);
    const failed = (await new JobRuns(db.conn).recent('test-job')).find((r) => r.status === 'failed');
    expect(failed?.error).toBe('export target unreachable');
  });

  it('stop() leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    let runs = 0;
    await svc.set('TEST_CRON', '* * * * * *', admin);
    const s = await start(
      testJob(async () => {
        runs++;
      }),
    );
    await until(() => runs > 0, 2500, 'a run');
    await s.stop();
    scheduler = undefined;
    const after = runs;
    await sleep(1500);
    expect(runs).toBe(after);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('two processes on one schedule: each slot runs once, and the one that skipped counts it as run elsewhere', async () => {
    const slots: number[] = [];
    const job = testJob(async ({ slot }) => {
      slots.push(slot.getTime());
    });
    await svc.set('TEST_CRON', '* * * * * *', admin);
    const a = await start(job);
    const b = new Scheduler({ config: svc, runs: new JobRuns(db.conn), jobs: [job], instanceId: 'other' });
    await b.start();
    try {
      await until(
        () => (b.status()[0]?.ranElsewhere ?? 0) + (a.status()[0]?.ranElsewhere ?? 0) >= 2,
        5000,
        'skips',
      );
    } finally {
      await b.stop();
    }
    expect(new Set(slots).size, 'no slot ran twice').toBe(slots.length);
    const status = [a.status()[0], b.status()[0]];
    const embed = statusEmbed({
      instanceId: 'a',
      uptimeMs: 0,
      database: 'MONGODB_URI',
      databaseState: 'connected',
      auditQueued: 0,
      sync: 'off',
      cache: svc.stats().cache,
      maintenance: false,
      pendingRestart: [],
      jobs: status.flatMap((j) => (j ? [j] : [])),
      schedulerHere: true,
    }).toJSON();
    expect(embed.fields?.map((f) => f.value).join('\n')).toMatch(
      /Run by another process: \d+ times? since this one started/,
    );
  });
});
