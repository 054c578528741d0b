import { setTimeout as sleep } from 'node:timers/promises';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigService } from '../../src/config/service.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { localDate } from '../../src/jobs/time.js';
import { JobRuns } from '../../src/storage/job-runs.js';
import { actor, openService, openTestDb, type TestDb } from '../helpers/db.js';
import { registryWithTestCron } from '../helpers/registry.js';
import { dailyAt, DST_CASES } from '../jobs/dst-cases.js';
import { FakeClock } from './fake-clock.js';

// The scheduler under a fake clock: a week of runs around each change takes no real time, and
// the runs are the ones its timers fire (leased in the database as in production).
let db: TestDb;
let svc: ConfigService;
let scheduler: Scheduler | undefined;
const admin = actor();

beforeEach(async () => {
  db = await openTestDb('scheduler_dst');
  svc = await openService(db, { registry: registryWithTestCron() });
});
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
  await svc.close();
  await db.drop();
});

/** Starts a scheduler at `start` with one job on `cron` in `zone`; its runs are collected. */
async function startAt(start: number, cron: string, zone: string) {
  for (const [key, value] of [
    ['SCHEDULE_TIMEZONE', zone],
    ['TEST_CRON', cron],
  ] as const) {
    if (svc.get(key) !== value) await svc.set(key, value, admin);
  }
  const clock = new FakeClock(start);
  const slots: Date[] = [];
  const s = new Scheduler({
    config: svc,
    runs: new JobRuns(db.conn),
    instanceId: 'dst',
    clock,
    jobs: [
      {
        name: 'dst-job',
        description: 'records its runs',
        scheduleKeys: ['TEST_CRON'],
        cron: (c) => String(c.get('TEST_CRON')),
        run: async ({ slot }) => void slots.push(slot),
      },
    ],
  });
  scheduler = s;
  await s.start();
  // What the impact preview would announce for this schedule, from the same instant.
  const [forecast] = s.forecast('TEST_CRON', cron, 60, new Date(start));
  const announced = forecast && 'next' in forecast.after ? forecast.after.next : [];
  const settle = async () => {
    while (s.status().some((j) => j.running)) await sleep(2);
  };
  const runTo = (until: number) => clock.runTo(until, settle);
  return { clock, slots, announced, runTo };
}

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('the scheduler on daylight-saving days', () => {
  it.each(DST_CASES)(
    '$zone, $time on $date ($kind): one run each local day, at $expected that day, as the preview said',
    async ({ zone, date, time, expected }) => {
      const first = DateTime.fromISO(date, { zone }).minus({ days: 3 });
      const start = first.set({ hour: 12 }).toMillis();
      const { clock, slots, announced, runTo } = await startAt(start, dailyAt(time), zone);
      expect(iso(announced)).toContain(expected);
      await runTo(first.plus({ days: 7 }).set({ hour: 12 }).toMillis());

      const days = Array.from({ length: 7 }, (_, i) => first.plus({ days: i + 1 }).toISODate());
      expect(slots.map((s) => localDate(s, zone))).toEqual(days);
      expect(iso(slots)).toContain(expected);
      expect(iso(slots)).toEqual(iso(announced.slice(0, slots.length)));
      expect(scheduler?.status()[0]?.nextRun?.toISOString()).toBe(announced[slots.length]?.toISOString());
      expect(clock.pending).toBe(1);
    },
  );

  it('a job with a wildcard runs by the clock through both changes, as the preview said', async () => {
    for (const [date, runs] of [
      ['2026-03-08', 46], // 23 hours of half-hours
      ['2026-11-01', 50], // 25 hours
    ] as const) {
      const day = DateTime.fromISO(date, { zone: 'America/New_York' });
      const { announced, slots, runTo } = await startAt(
        day.toMillis() - 1,
        '*/30 * * * *',
        'America/New_York',
      );
      await runTo(day.plus({ days: 1 }).toMillis() - 1);
      expect(slots).toHaveLength(runs);
      expect(iso(slots)).toEqual(iso(announced.slice(0, runs)));
      await scheduler?.stop();
    }
  });

  it('stop() cancels the armed timer', async () => {
    const { clock } = await startAt(Date.parse('2026-03-07T12:00:00Z'), '30 2 * * *', 'Europe/Paris');
    expect(clock.pending).toBe(1);
    await scheduler?.stop();
    expect(clock.pending).toBe(0);
  });
});
