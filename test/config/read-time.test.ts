import { describe, expect, it } from 'vitest';
import { parseAt, readTime } from '../../src/config/when.js';

const winter = new Date('2026-12-01T10:00:00Z');

describe('readTime (at: and flag schedules)', () => {
  it('takes a time that names its zone as that instant, across a clock change', () => {
    // Read in December (UTC+1 in Paris) for a July instant (UTC+2): no shift for a zone given.
    expect(readTime('2027-07-01T10:00:00Z', 'Europe/Paris', winter)?.toISOString()).toBe(
      '2027-07-01T10:00:00.000Z',
    );
    expect(parseAt('2027-07-01T12:00:00+02:00', 'Europe/Paris', winter).toISOString()).toBe(
      '2027-07-01T10:00:00.000Z',
    );
    // Without a zone, the schedule's zone on that day.
    expect(readTime('2027-07-01 10:00', 'Europe/Paris', winter)?.toISOString()).toBe(
      '2027-07-01T08:00:00.000Z',
    );
  });

  it('reads past times too (callers decide), and nothing from what it cannot read', () => {
    expect(readTime('2020-01-01 00:00', 'UTC', winter)?.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(readTime('whenever', 'UTC', winter)).toBeUndefined();
  });
});
