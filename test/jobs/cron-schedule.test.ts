import { describe, expect, it } from 'vitest';
import { CronSchedule } from '../../src/jobs/cron-schedule.js';
import { dailyAt, DST_CASES } from './dst-cases.js';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('CronSchedule on daylight-saving days', () => {
  it.each(DST_CASES)(
    'runs $zone $time once on $date ($kind), at $expected',
    ({ zone, date, time, expected }) => {
      const from = new Date(Date.parse(`${date}T12:00:00Z`) - 2 * 86_400_000);
      const runs = iso(new CronSchedule(dailyAt(time), zone).next(from, 4));
      expect(runs).toContain(expected);
      // One run a day: consecutive runs are a day apart give or take the shift.
      for (let i = 1; i < runs.length; i++) {
        const hours = (Date.parse(runs[i] ?? '') - Date.parse(runs[i - 1] ?? '')) / 3_600_000;
        expect(hours).toBeGreaterThanOrEqual(23);
        expect(hours).toBeLessThanOrEqual(25);
      }
    },
  );

  it('runs a job at several times the clock jumps over once, right after the jump', () => {
    const runs = new CronSchedule('0,15,30,45 2 * * *', 'America/New_York').next(
      new Date('2026-03-07T12:00:00Z'),
      6,
    );
    expect(iso(runs).filter((r) => r.startsWith('2026-03-08'))).toEqual(['2026-03-08T07:00:00.000Z']);
  });

  it('runs a job with a wildcard by the clock: not in the gap, in both copies of the repeated hour', () => {
    const ny = (from: string, count: number) =>
      iso(new CronSchedule('*/30 * * * *', 'America/New_York').next(new Date(from), count));
    // 01:30 EST, then 03:00 EDT: no run at 02:00 or 02:30, which do not exist.
    expect(ny('2026-03-08T06:15:00Z', 2)).toEqual(['2026-03-08T06:30:00.000Z', '2026-03-08T07:00:00.000Z']);
    // 01:00, 01:30 EDT, then 01:00, 01:30 EST, then 02:00 EST.
    expect(ny('2026-11-01T04:45:00Z', 5)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:30:00.000Z',
      '2026-11-01T07:00:00.000Z',
    ]);
  });

  it('refuses an invalid expression and an unknown zone, saying which', () => {
    expect(() => new CronSchedule('61 * * * *', 'UTC')).toThrow('invalid cron expression "61 * * * *"');
    expect(() => new CronSchedule('0 2 * * *', 'Mars/Olympus')).toThrow('unknown time zone "Mars/Olympus"');
  });
});
