import { CronExpressionParser } from 'cron-parser';
import { IANAZone } from 'luxon';
import cron from 'node-cron';

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * When a cron expression runs in a time zone, daylight-saving days included: the one rule the
 * scheduler arms its timers with, the impact preview forecasts with and the daily export maps
 * its dates with, so the preview's next runs are the runs. The rule is classic cron's (cron(8)):
 * - a job at a particular time whose time does not exist that day (the clock jumps over it)
 *   runs once, right after the jump; one whose time happens twice (the clock goes back over it)
 *   runs once, at its first occurrence;
 * - a job with a wildcard (`*`, `*\/n`) in its hour, minute or second field runs by the clock:
 *   whenever the clock shows a matching time, so not in a gap and in both copies of a repeated
 *   hour (an every-5-minutes job keeps its pace through both).
 *
 * Neither library does this on its own. node-cron 4.6 (the runner before) only runs at an
 * instant whose clock shows the expression's time, so a time in a gap never runs, and it reads a
 * repeated time with the offset of a guess, which lands on its second copy in Paris and its first
 * in New York; it has no option for either. cron-parser's time zones (the forecast before)
 * announce a time in a gap an hour late in New York and Paris, skip it in Lord Howe, and take the
 * first copy of a repeated one. luxon's own reading of a repeated time also differs by zone. So
 * cron-parser enumerates the wall-clock times (in UTC, where the clock never changes), luxon's
 * zone offsets give each its instants, and the choice among them is made here. node-cron, the
 * scheduler the user chose, still decides which expressions are valid.
 */
export class CronSchedule {
  private readonly zone: IANAZone;
  private readonly byTheClock: boolean;

  /** Throws (with a message saying what is wrong) for an invalid expression or time zone. */
  constructor(
    readonly expression: string,
    readonly timezone: string,
  ) {
    if (!cron.validate(expression)) throw new Error(`invalid cron expression "${expression}"`);
    CronExpressionParser.parse(expression, { tz: 'UTC' });
    const zone = IANAZone.create(timezone);
    if (!zone.isValid) throw new Error(`unknown time zone "${timezone}"`);
    this.zone = zone;
    this.byTheClock = runsByTheClock(expression);
  }

  /** The next `count` runs strictly after `from`, in order. */
  next(from: Date, count = 1): Date[] {
    const runs: Date[] = [];
    for (const at of this.runsAfter(from)) {
      runs.push(at);
      if (runs.length >= count) break;
    }
    return runs;
  }

  /** Every run strictly after `from`, in order (an endless iterator). */
  *runsAfter(from: Date): Generator<Date, never> {
    const start = from.getTime();
    // A run just after `from` can show an earlier wall time than `from` did when the clock goes
    // back in between: start from the lower of the offsets now and two days on.
    const lowest = Math.min(this.zone.offset(start), this.zone.offset(start + 2 * DAY));
    const walls = CronExpressionParser.parse(this.expression, {
      tz: 'UTC',
      currentDate: new Date(start + lowest * MINUTE - 1000),
    });
    // Second copies of repeated times (by-the-clock jobs), due once the first copies pass them.
    const later: number[] = [];
    let last = start;
    for (;;) {
      const wall = walls.next().getTime();
      const [first, second] = instantsShowing(this.zone, wall);
      if (second !== undefined && this.byTheClock) later.push(second);
      const at = first ?? (this.byTheClock ? undefined : jumpOver(this.zone, wall));
      if (at === undefined) continue;
      while (later[0] !== undefined && later[0] < at) {
        const t = later.shift() ?? at;
        if (t > last) yield new Date((last = t));
      }
      if (at > last) yield new Date((last = at));
    }
  }
}

/** The instant the rule gives to `date` `hh:mm` in `timeZone`: its first occurrence, or right after the jump over it. */
export function instantOfWallTime(date: string, hhmm: string, timeZone: string): Date {
  const zone = IANAZone.create(timeZone);
  if (!zone.isValid) throw new Error(`unknown time zone "${timeZone}"`);
  const [y = 0, mo = 1, d = 1] = date.split('-').map(Number);
  const [h = 0, mi = 0] = hhmm.split(':').map(Number);
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  return new Date(instantsShowing(zone, wall)[0] ?? jumpOver(zone, wall));
}

/**
 * Classic cron's test (Vixie cron's MIN_STAR/HR_STAR): a job whose hour or minute field starts
 * with `*` runs at no particular time, so the clock change rule leaves it alone. Seconds count
 * too here, node-cron's 6-field form; of the nicknames only `@hourly` has such a wildcard.
 */
function runsByTheClock(expression: string): boolean {
  const text = expression.trim();
  if (text.startsWith('@')) return /^@hourly$/i.test(text);
  const fields = text.split(/\s+/);
  const timeFields = fields.length === 6 ? fields.slice(0, 3) : fields.slice(0, 2);
  return timeFields.some((f) => /^[*?]/.test(f));
}

/** The instants (zero, one or two, in order) at which the clock of `zone` shows `wall` (a UTC-read wall time). */
function instantsShowing(zone: IANAZone, wall: number): number[] {
  const offsets = new Set([zone.offset(wall - DAY), zone.offset(wall), zone.offset(wall + DAY)]);
  const found = [...offsets]
    .map((o) => wall - o * MINUTE)
    .filter((t) => wall - zone.offset(t) * MINUTE === t);
  return [...new Set(found)].sort((a, b) => a - b);
}

/** The instant the clock of `zone` jumps over `wall` (a time in a gap): where the later offset starts. */
function jumpOver(zone: IANAZone, wall: number): number {
  const offsets = [zone.offset(wall - DAY), zone.offset(wall + DAY)];
  // Read with the later (larger) offset the wall time falls before the jump, with the earlier after it.
  let before = wall - Math.max(...offsets) * MINUTE;
  let after = wall - Math.min(...offsets) * MINUTE;
  const offsetBefore = zone.offset(before);
  while (after - before > 1) {
    const mid = Math.floor((before + after) / 2);
    if (zone.offset(mid) === offsetBefore) before = mid;
    else after = mid;
  }
  return after;
}
