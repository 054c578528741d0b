import { readTime } from '../../config/when.js';
import { UserError } from '../../base/errors.js';
import { parseDate } from '@config-bot/client/flags';
import { preview } from '../../base/text.js';
import { CLEAR } from './edits.js';

/**
 * A schedule bound as typed, as the model stores it: `none` stays `none` (removes the bound), an
 * ISO 8601 date-time with a zone is kept as typed, anything else is read as `/config set at:`
 * reads it (chrono-node, in SCHEDULE_TIMEZONE) and stored in UTC. Unlike `at:`, a time that has
 * passed is accepted: a start in the past is on at once (the reply warns).
 */
export function scheduleBound(
  field: 'start' | 'end',
  typed: string | undefined,
  timeZone: string,
  now = new Date(),
): string | undefined {
  if (typed === undefined) return undefined;
  const text = typed.trim();
  if (text.toLowerCase() === CLEAR) return CLEAR;
  if (text.includes('T') && parseDate(text) !== undefined) return text;
  const at = readTime(text, timeZone, now);
  if (!at)
    throw new UserError(
      'INVALID_VALUE',
      `${field}: "${preview(text)}" is not a time I can read. Use 2026-12-01 10:00, tomorrow 09:00 or 2026-12-01T09:00:00Z (read in ${timeZone}), or ${CLEAR} to remove it.`,
    );
  return at.toISOString().replace('.000Z', 'Z');
}
