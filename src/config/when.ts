// English only, as `chrono-node`'s own `parse` is: its root also loads 15 other locales (about
// 240 modules), which every process would load at start-up for nothing.
import * as chrono from 'chrono-node/en';
import { DateTime } from 'luxon';
import { UserError } from '../base/errors.js';
import { preview } from '../base/text.js';
import { duration } from './kinds.js';

/** A temporary value holds at least a minute and at most 30 days. */
const FOR_MIN_MS = 60_000;
const FOR_MAX_MS = 30 * 86_400_000;
/** Any duration as typed: the bounds are checked apart, to say which one was passed. */
const DURATION = duration({ max: Infinity });
/** A change is scheduled at most a year ahead. */
const MAX_AHEAD_MS = 366 * 86_400_000;

/** `for:` as typed (`30m`, `2h`, `1d`), in milliseconds, from 1m to 30d. */
export function parseFor(text: string): number {
  const typed = text.trim();
  const parsed = DURATION.schema.safeParse(typed);
  const refuse = (message: string): never => {
    throw new UserError('INVALID_VALUE', `for: ${message}`);
  };
  if (!parsed.success)
    return refuse(`"${preview(typed)}" is not a duration: use a number and a unit, like 30m, 2h or 1d.`);
  if (parsed.data > FOR_MAX_MS)
    return refuse(`${typed} is longer than 30d, the longest a temporary value holds.`);
  if (parsed.data < FOR_MIN_MS)
    return refuse(`${typed} is shorter than 1m, the shortest a temporary value holds.`);
  return parsed.data;
}

/**
 * `at:` as typed: an absolute time (`2026-12-01 18:00`) or plain words (`tomorrow 18:00`,
 * `in 2h`), read in `timeZone` (SCHEDULE_TIMEZONE) by chrono-node. Refuses what it cannot read,
 * a time that has passed, and one more than a year ahead.
 */
export function parseAt(text: string, timeZone: string, now = new Date()): Date {
  const at = readTime(text, timeZone, now);
  if (!at) {
    throw new UserError(
      'INVALID_VALUE',
      `at: "${preview(text)}" is not a time I can read. Use 2026-12-01 18:00, tomorrow 18:00 or in 2h (in ${timeZone}).`,
    );
  }
  if (at.getTime() <= now.getTime())
    throw new UserError('INVALID_VALUE', `at: ${formatIn(at, timeZone)} has passed; give a time to come.`);
  if (at.getTime() - now.getTime() > MAX_AHEAD_MS)
    throw new UserError('INVALID_VALUE', `at: ${formatIn(at, timeZone)} is more than a year ahead.`);
  return at;
}

/**
 * A time as typed (`2026-12-01 18:00`, `tomorrow 18:00`, `in 2h`, ISO 8601), read by chrono-node
 * in `timeZone`; undefined when it cannot be read. Past times are read too (callers decide).
 */
export function readTime(text: string, timeZone: string, now = new Date()): Date | undefined {
  const offset = (at: Date) => DateTime.fromJSDate(at).setZone(timeZone).offset;
  const [result] = chrono.parse(text, { instant: now, timezone: offset(now) }, { forwardDate: true });
  if (!result) return undefined;
  const read = result.start.date();
  // A time that names its zone (`...Z`, `+02:00`) is that instant.
  if (result.start.isCertain('timezoneOffset')) return read;
  // Read with the zone's offset of today: across a clock change, use the offset of that day.
  const shift = offset(read) - offset(now);
  return new Date(read.getTime() - shift * 60_000);
}

function formatIn(at: Date, timeZone: string): string {
  return `${DateTime.fromJSDate(at).setZone(timeZone).toFormat('yyyy-MM-dd HH:mm')} ${timeZone}`;
}
