import { setTimeout as sleep } from 'node:timers/promises';
import { isUnavailableError } from '../storage/connection.js';
import type { DatabaseHealth } from '../storage/health.js';
import type { RateRecords, Taken } from '../storage/rate-limits.js';
import type { ApiToken } from '../tokens/tokens.js';
import { ApiError } from './errors.js';

/**
 * How long a write waits for its count before it goes on uncounted: a database that does not
 * answer (paused, cut off) must not hold a write for longer than the write's own deadline
 * (DB_TIMEOUT_MS) would, and an invalid value is still refused without it.
 */
export const WRITE_COUNT_WAIT_MS = 2000;

const WINDOW_MS = 60_000;

/**
 * Write requests one token may make per minute (API_WRITES_PER_MIN), refused ones included,
 * apart from its request rate: counted in the database (RateRecords, atomic on MongoDB and
 * FerretDB alike), so the limit holds across API processes and under parallel requests.
 * While the database is unreachable nothing can be written anyway, so a write goes on to be
 * refused as such.
 */
export class TokenWriteLimit {
  constructor(
    private readonly records: RateRecords,
    private readonly health: DatabaseHealth,
    private readonly perMinute: number,
    private readonly waitMs = WRITE_COUNT_WAIT_MS,
  ) {}

  /** Counts a write request of `token`; throws 429 with Retry-After past the limit. */
  async count(token: ApiToken): Promise<void> {
    if (!this.health.available) return;
    const counted = this.records.take(`api-writes:${token.id}`, {
      limit: this.perMinute,
      windowMs: WINDOW_MS,
    });
    let result: Taken | 'late';
    try {
      result = await Promise.race([counted, sleep(this.waitMs, 'late' as const, { ref: false })]);
    } catch (err) {
      // Let through uncounted: the write itself finds the database out and says so (its deadline,
      // its 503). Marking the database down from here would answer the write for it, sooner and
      // differently depending on which of the two timed out first.
      if (!isUnavailableError(err)) throw err;
      return;
    }
    if (result === 'late') {
      // Let through uncounted; the count still lands when the database answers.
      counted.catch(() => undefined);
      return;
    }
    if (!result.taken) throw this.refusal(token, result);
  }

  private refusal(token: ApiToken, full: Extract<Taken, { taken: false }>): ApiError {
    const wait = Math.max(1, Math.ceil((full.oldest.getTime() + WINDOW_MS - Date.now()) / 1000));
    return new ApiError(
      429,
      'RATE_LIMITED',
      `Token ${token.name} made ${full.count} writes in the last minute, and its limit is ${this.perMinute} (API_WRITES_PER_MIN). Nothing was changed; try again in ${wait} s.`,
      { 'retry-after': String(wait) },
    );
  }
}
