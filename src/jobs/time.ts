import { instantOfWallTime } from './cron-schedule.js';

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/**
 * The instant at which the wall clock of `timeZone` shows `date` `hh:mm`, by the scheduler's
 * rule (CronSchedule) so that a date's export time is the instant its job runs: a time the clock
 * jumps over is right after the jump, a time it shows twice is its first occurrence.
 */
export function zonedInstant(date: string, hhmm: string, timeZone: string): Date {
  return instantOfWallTime(date, hhmm, timeZone);
}
