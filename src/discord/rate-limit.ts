import { isUnavailableError } from '../storage/connection.js';
import type { DatabaseHealth } from '../storage/health.js';
import type { RateRecord, RateRecords } from '../storage/rate-limits.js';
import { UserError } from '../base/errors.js';
import { within } from './budget.js';

export interface RateLimits {
  /** Committed changes one user may make per window (WRITE_RATE_LIMIT_PER_MIN). */
  changes: number;
  /** Write attempts, refused ones included, one user may make per window (WRITE_ATTEMPTS_PER_MIN). */
  attempts: number;
  windowMs?: number;
}

/** What was attempted, carried in a refusal so it can be audited. */
export interface Attempt {
  key: string;
  action: string;
}

/**
 * Per-user limits on writes, counted in the database so they hold across every bot process.
 * Two limits: committed changes (what the admin thinks of as "changes"), and attempts, refused
 * ones included, a higher limit that stops floods of typos or probing. Concurrent attempts of one
 * user in several processes may overshoot a little. While the database is unreachable nothing can
 * be written anyway, so the check lets the attempt through to be refused (and audited) as such.
 */
export class WriteRateLimiter {
  private readonly windowMs: number;

  constructor(
    private readonly records: RateRecords,
    private readonly health: DatabaseHealth,
    private readonly limits: RateLimits,
  ) {
    this.windowMs = limits.windowMs ?? 60_000;
  }

  /**
   * Counts an attempt; throws RATE_LIMITED (nothing recorded) when either limit is reached. With
   * `waitMs` (an interaction not acknowledged yet, whose handler must answer within Discord's
   * 3 s), a database slower than that lets the attempt through, as an unreachable one does; it is
   * still counted when the database answers.
   */
  async checkAttempt(actorId: string, attempt: Attempt, waitMs?: number): Promise<void> {
    const check = this.check(actorId, attempt);
    if (waitMs === undefined) return check;
    await within(check, undefined, waitMs);
  }

  private async check(actorId: string, attempt: Attempt): Promise<void> {
    const record = await this.read(actorId);
    if (!record) return;
    const now = Date.now();
    const refuse = (text: string, list: Date[], limit: number) => {
      const oldest = Math.min(...list.map((t) => t.getTime()));
      const wait = Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
      throw new UserError(
        'RATE_LIMITED',
        `${text} Nothing was changed; try again in ${wait} s.`,
        { ...attempt },
        `rate limited: ${list.length} in ${this.windowMs / 1000} s (limit ${limit})`,
      );
    };
    if (record.changes.length >= this.limits.changes)
      refuse(
        `You made ${record.changes.length} changes in the last minute, and the limit is ${this.limits.changes}.`,
        record.changes,
        this.limits.changes,
      );
    if (record.attempts.length >= this.limits.attempts)
      refuse(
        `Too many attempts: ${record.attempts.length} in the last minute (refused ones count too), and the limit is ${this.limits.attempts}.`,
        record.attempts,
        this.limits.attempts,
      );
    await this.write(actorId, { ...record, attempts: [...record.attempts, new Date(now)] });
  }

  /** Counts a committed change (after the write succeeded). */
  async recordChange(actorId: string): Promise<void> {
    const record = await this.read(actorId);
    if (record) await this.write(actorId, { ...record, changes: [...record.changes, new Date()] });
  }

  /** The user's record within the window, or undefined when the database cannot be reached. */
  private async read(actorId: string): Promise<RateRecord | undefined> {
    if (!this.health.available) return undefined;
    try {
      const { attempts, changes } = await this.records.read(actorId);
      const since = Date.now() - this.windowMs;
      const recent = (list: Date[]) =>
        list.filter((t) => new Date(t).getTime() > since).map((t) => new Date(t));
      return { attempts: recent(attempts), changes: recent(changes) };
    } catch (err) {
      if (!isUnavailableError(err)) throw err;
      this.health.noteFailure('rate limit', err);
      return undefined;
    }
  }

  private async write(actorId: string, record: RateRecord): Promise<void> {
    try {
      await this.records.save(actorId, record);
    } catch (err) {
      if (!isUnavailableError(err)) throw err;
      this.health.noteFailure('rate limit', err);
    }
  }
}
