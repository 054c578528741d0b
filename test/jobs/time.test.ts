import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { CronSchedule } from '../../src/jobs/cron-schedule.js';
import { localDate, zonedInstant } from '../../src/jobs/time.js';
import { dailyAt, DST_CASES } from './dst-cases.js';

describe('zonedInstant', () => {
  it.each(DST_CASES)(
    'gives $zone $date $time ($kind) the instant its daily job runs: $expected',
    ({ zone, date, time, expected }) => {
      expect(zonedInstant(date, time, zone).toISOString()).toBe(expected);
      // Every day around the change: the instant is the job's run of that local date.
      const first = DateTime.fromISO(date, { zone }).minus({ days: 3 });
      const runs = new CronSchedule(dailyAt(time), zone).next(first.toJSDate(), 7);
      const days = runs.map((r) => localDate(r, zone));
      expect(days).toEqual(Array.from({ length: 7 }, (_, i) => first.plus({ days: i }).toISODate()));
      expect(days.map((d) => zonedInstant(d, time, zone).toISOString())).toEqual(
        runs.map((r) => r.toISOString()),
      );
    },
  );
});
