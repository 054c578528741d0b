import * as chrono from 'chrono-node';
import { DateTime } from 'luxon';
import { UserError } from '../errors.js';
import { preview } from '../text.js';
import { duration } from './kinds.js';

/** A temporary value holds at least a minute and at most 30 days. */
const FOR = duration({ min: 60_000, max: 30 * 86_400_000 });
/** A change is scheduled at most a year ahead. */
const MAX_AHEAD_MS = 366 * 86_400_000;

/** `for:` as typed (`30m`, `2h`, `1d`), in milliseconds. */
export function parseFor(text: string): number {
  const parsed = FOR.schema.safeParse(text.trim());
  if (parsed.success) return parsed.data;
  throw new UserError(
    'INVALID_VALUE',
    `for: ${parsed.error.issues.map((i) => i.message).join('; ')} (from 1m to 30d).`,
  );
}

/**
 * `at:` as typed: an absolute time (`2026-12-01 18:00`) or plain words (`tomorrow 18:00`,
 * `in 2h`), read in `timeZone` (SCHEDULE_TIMEZONE) by chrono-node. Refuses what it cannot read,
 * a time that has passed, and one more than a year ahead.
 */
export function parseAt(text: string, timeZone: string, now = new Date()): Date {
  const offset = (at: Date) => DateTime.fromJSDate(at).setZone(timeZone).offset;
  const read = chrono.parseDate(text, { instant: now, timezone: offset(now) }, { forwardDate: true });
  if (!read) {
    throw new UserError(
      'INVALID_VALUE',
      `at: "${preview(text)}" is not a time I can read. Use 2026-12-01 18:00, tomorrow 18:00 or in 2h (in ${timeZone}).`,
    );
  }
  // Read with the zone's offset of today: across a clock change, use the offset of that day.
  const shift = offset(read) - offset(now);
  const at = new Date(read.getTime() - shift * 60_000);
  if (at.getTime() <= now.getTime())
    throw new UserError('INVALID_VALUE', `at: ${formatIn(at, timeZone)} has passed; give a time to come.`);
  if (at.getTime() - now.getTime() > MAX_AHEAD_MS)
    throw new UserError('INVALID_VALUE', `at: ${formatIn(at, timeZone)} is more than a year ahead.`);
  return at;
}

function formatIn(at: Date, timeZone: string): string {
  return `${DateTime.fromJSDate(at).setZone(timeZone).toFormat('yyyy-MM-dd HH:mm')} ${timeZone}`;
}
