/**
 * Daylight-saving days of 2026 in four zones (north and south, one-hour and half-hour shifts),
 * each with a daily time the clock jumps over or shows twice, and the instant classic cron's rule
 * gives it that day: right after the jump, or the first occurrence.
 */
export interface DstCase {
  zone: string;
  /** The local date of the change. */
  date: string;
  time: string;
  kind: 'gap' | 'repeated';
  /** The run on `date`, by the rule. */
  expected: string;
}

export const DST_CASES: readonly DstCase[] = [
  // 02:00 EST → 03:00 EDT: 02:30 does not exist; runs at 03:00 EDT.
  {
    zone: 'America/New_York',
    date: '2026-03-08',
    time: '02:30',
    kind: 'gap',
    expected: '2026-03-08T07:00:00.000Z',
  },
  // 02:00 EDT → 01:00 EST: 01:30 happens at 05:30Z (EDT) and 06:30Z (EST).
  {
    zone: 'America/New_York',
    date: '2026-11-01',
    time: '01:30',
    kind: 'repeated',
    expected: '2026-11-01T05:30:00.000Z',
  },
  // 02:00 CET → 03:00 CEST.
  {
    zone: 'Europe/Paris',
    date: '2026-03-29',
    time: '02:30',
    kind: 'gap',
    expected: '2026-03-29T01:00:00.000Z',
  },
  // 03:00 CEST → 02:00 CET: 02:30 happens at 00:30Z (CEST) and 01:30Z (CET).
  {
    zone: 'Europe/Paris',
    date: '2026-10-25',
    time: '02:30',
    kind: 'repeated',
    expected: '2026-10-25T00:30:00.000Z',
  },
  // Southern hemisphere: 03:00 AEDT → 02:00 AEST in April, 02:00 AEST → 03:00 AEDT in October.
  {
    zone: 'Australia/Sydney',
    date: '2026-04-05',
    time: '02:30',
    kind: 'repeated',
    expected: '2026-04-04T15:30:00.000Z',
  },
  {
    zone: 'Australia/Sydney',
    date: '2026-10-04',
    time: '02:30',
    kind: 'gap',
    expected: '2026-10-03T16:00:00.000Z',
  },
  // Half an hour: 02:00 (+11) → 01:30 (+10:30) in April, 02:00 (+10:30) → 02:30 (+11) in October.
  {
    zone: 'Australia/Lord_Howe',
    date: '2026-04-05',
    time: '01:45',
    kind: 'repeated',
    expected: '2026-04-04T14:45:00.000Z',
  },
  {
    zone: 'Australia/Lord_Howe',
    date: '2026-10-04',
    time: '02:15',
    kind: 'gap',
    expected: '2026-10-03T15:30:00.000Z',
  },
];

/** The daily cron expression of `hh:mm`. */
export function dailyAt(time: string): string {
  const [hh, mm] = time.split(':').map(Number);
  return `${mm} ${hh} * * *`;
}
