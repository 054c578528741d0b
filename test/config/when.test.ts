import { describe, expect, it } from 'vitest';
import { parseAt, parseFor } from '../../src/config/when.js';

const now = new Date('2026-12-01T10:00:00Z');

describe('for: and at:', () => {
  it('reads durations from 1m to 30d and refuses the rest', () => {
    expect(parseFor('2h')).toBe(7_200_000);
    expect(parseFor(' 30m ')).toBe(1_800_000);
    expect(() => parseFor('45d')).toThrow(
      /^for: 45d is longer than 30d, the longest a temporary value holds\.$/,
    );
    expect(() => parseFor('30s')).toThrow(
      /^for: 30s is shorter than 1m, the shortest a temporary value holds\.$/,
    );
    expect(() => parseFor('soon')).toThrow(/is not a duration/);
  });

  it('reads absolute times and plain words in the schedule time zone', () => {
    expect(parseAt('2026-12-01 18:00', 'UTC', now).toISOString()).toBe('2026-12-01T18:00:00.000Z');
    expect(parseAt('2026-12-01 18:00', 'Europe/Paris', now).toISOString()).toBe('2026-12-01T17:00:00.000Z');
    // 05:00 in New York on 1 December: tomorrow is the 2nd.
    expect(parseAt('tomorrow 18:00', 'America/New_York', now).toISOString()).toBe('2026-12-02T23:00:00.000Z');
    expect(parseAt('in 2h', 'Asia/Tokyo', now).toISOString()).toBe('2026-12-01T12:00:00.000Z');
    // Across a clock change: 2027-03-28 is summer time in Paris (UTC+2).
    expect(parseAt('2027-03-29 09:00', 'Europe/Paris', now).toISOString()).toBe('2027-03-29T07:00:00.000Z');
  });

  it('refuses what it cannot read, the past, and more than a year ahead', () => {
    expect(() => parseAt('whenever', 'UTC', now)).toThrow(/"whenever" is not a time I can read/);
    expect(() => parseAt('2026-11-30 18:00', 'UTC', now)).toThrow(/has passed/);
    expect(() => parseAt('2028-01-01 00:00', 'UTC', now)).toThrow(/more than a year ahead/);
  });
});
