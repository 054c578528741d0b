/**
 * Evaluation counts: how often each flag answered for each reason, kept across FlagSet swaps.
 */
import { REASONS, UNKNOWN, type Reason } from './reasons.js';

export type FlagCountsSnapshot = Record<string, Partial<Record<Reason, number>>>;

const MAX_UNKNOWN_NAMES = 1000;
/** Where unknown names beyond MAX_UNKNOWN_NAMES are counted; not a valid flag name, so no clash. */
const OTHER_UNKNOWN = '*';

/**
 * Evaluations per flag per reason since it was created. One instance outlives the FlagSets that
 * share it, so swapping flags keeps the counts. Unknown names are capped (a name built from user
 * input must not grow memory without bound).
 */
export class FlagCounts {
  private readonly byName = new Map<string, number[]>();
  private unknownNames = 0;

  /** The counters of a known flag (created at FlagSet build time, then incremented in place). */
  forFlag(name: string): number[] {
    let c = this.byName.get(name);
    if (!c) this.byName.set(name, (c = new Array<number>(REASONS.length).fill(0)));
    return c;
  }

  countUnknown(name: string): void {
    let key = typeof name === 'string' ? name.slice(0, 100) : OTHER_UNKNOWN;
    if (!this.byName.has(key)) {
      if (this.unknownNames < MAX_UNKNOWN_NAMES) this.unknownNames++;
      else key = OTHER_UNKNOWN;
    }
    const c = this.forFlag(key);
    c[UNKNOWN] = (c[UNKNOWN] ?? 0) + 1;
  }

  /** Non-zero counts only. */
  snapshot(): FlagCountsSnapshot {
    const out: FlagCountsSnapshot = {};
    for (const [name, c] of this.byName) {
      const row: Partial<Record<Reason, number>> = {};
      c.forEach((n, code) => {
        if (n > 0) row[REASONS[code] ?? 'error'] = n;
      });
      if (Object.keys(row).length) out[name] = row;
    }
    return out;
  }
}
