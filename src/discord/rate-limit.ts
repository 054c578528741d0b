import { errorDetail, logger } from '../base/logger.js';
import { isUnavailableError } from '../storage/connection.js';
import type { DatabaseHealth } from '../storage/health.js';
import type { RateRecords, Taken } from '../storage/rate-limits.js';
import { isUserError, UserError } from '../base/errors.js';
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

/** What a counted attempt holds until it is answered: the change it may make. */
export interface Ticket {
  /** Frees the change the attempt held unless one was recorded; never throws. */
  settle(): Promise<void>;
}

/** One user's attempts in this process that hold a change, and the changes recorded for them. */
interface Held {
  open: number;
  recorded: number;
}

/**
 * Per-user limits on writes, counted in the database (RateRecords, atomic on MongoDB and
 * FerretDB alike) so they hold across every bot process and under parallel attempts of one user.
 * Two limits: committed changes (what the admin thinks of as "changes"), and attempts, refused
 * ones included, a higher limit that stops floods of typos or probing.
 *
 * A change is committed after its attempt was let through, so parallel attempts could each pass
 * a check of changes made so far: instead each attempt reserves a change, and gives it back once
 * it is answered without having made one (a typo, a refusal, a preview waiting for Confirm).
 * While the database is unreachable nothing can be written anyway, so the check lets the
 * attempt through to be refused (and audited) as such.
 */
export class WriteRateLimiter {
  private readonly windowMs: number;
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly records: RateRecords,
    private readonly health: DatabaseHealth,
    private readonly limits: RateLimits,
  ) {
    this.windowMs = limits.windowMs ?? 60_000;
  }

  /**
   * Counts an attempt and reserves it a change; throws RATE_LIMITED (nothing counted) when either
   * limit is reached. Settle the ticket once the attempt is answered. With `waitMs` (an
   * interaction not acknowledged yet, whose handler must answer within Discord's 3 s), a
   * database slower than that lets the attempt through, as an unreachable one does; it is still
   * counted when the database answers.
   */
  async checkAttempt(actorId: string, attempt: Attempt, waitMs?: number): Promise<Ticket> {
    const reserved = this.reserve(actorId, attempt);
    const ticket = { settle: () => this.settle(actorId, reserved) };
    if (waitMs === undefined) await reserved;
    else await within(reserved, undefined, waitMs);
    return ticket;
  }

  /**
   * Counts a committed change (after the write succeeded): the one an attempt of this user
   * reserved, or a new one when none is open (the attempt was let through uncounted).
   */
  async recordChange(actorId: string): Promise<void> {
    const held = this.held.get(actorId);
    if (held && held.open > held.recorded) {
      // Reserved places are alike: whichever attempt settles next keeps one for this change.
      held.recorded += 1;
      return;
    }
    if (!this.health.available) return;
    try {
      await this.records.add(changesOf(actorId));
    } catch (err) {
      if (!isUnavailableError(err)) throw err;
      this.health.noteFailure('rate limit', err);
    }
  }

  /** The change entry reserved for the attempt; undefined when the database could not count it. */
  private async reserve(actorId: string, attempt: Attempt): Promise<string | undefined> {
    if (!this.health.available) return undefined;
    const window = (limit: number) => ({ limit, windowMs: this.windowMs });
    try {
      const change = await this.records.take(changesOf(actorId), window(this.limits.changes));
      if (!change.taken)
        throw this.refusal(
          `You made ${change.count} changes in the last minute, and the limit is ${this.limits.changes}.`,
          change,
          this.limits.changes,
          attempt,
        );
      const tried = await this.records.take(`attempts:${actorId}`, window(this.limits.attempts));
      if (!tried.taken) {
        await this.records.release(change.entry);
        throw this.refusal(
          `Too many attempts: ${tried.count} in the last minute (refused ones count too), and the limit is ${this.limits.attempts}.`,
          tried,
          this.limits.attempts,
          attempt,
        );
      }
      const held = this.held.get(actorId) ?? { open: 0, recorded: 0 };
      held.open += 1;
      this.held.set(actorId, held);
      return change.entry;
    } catch (err) {
      if (!isUnavailableError(err)) throw err;
      this.health.noteFailure('rate limit', err);
      return undefined;
    }
  }

  private async settle(actorId: string, reserved: Promise<string | undefined>): Promise<void> {
    let entry: string | undefined;
    try {
      entry = await reserved;
    } catch (err) {
      // Thrown to the dispatcher already, unless it came after the attempt was let through.
      if (!isUserError(err)) logger.error('Counting a write attempt failed', errorDetail(err));
      return;
    }
    const held = this.held.get(actorId);
    if (!entry || !held) return;
    held.open -= 1;
    const kept = held.recorded > 0;
    if (kept) held.recorded -= 1;
    if (held.open === 0) this.held.delete(actorId);
    if (kept) return;
    try {
      await this.records.release(entry);
    } catch (err) {
      // Not freed: the reserved change counts until it leaves the window.
      this.health.noteFailure('rate limit', err);
    }
  }

  private refusal(text: string, full: Extract<Taken, { taken: false }>, limit: number, attempt: Attempt) {
    const wait = Math.max(1, Math.ceil((full.oldest.getTime() + this.windowMs - Date.now()) / 1000));
    return new UserError(
      'RATE_LIMITED',
      `${text} Nothing was changed; try again in ${wait} s.`,
      { ...attempt },
      `rate limited: ${full.count} in ${this.windowMs / 1000} s (limit ${limit})`,
    );
  }
}

const changesOf = (actorId: string): string => `changes:${actorId}`;
