import type { Connection } from 'mongoose';
import { DatabaseUnavailableError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import { isUnavailableError } from './connection.js';

type Listener = () => void;

/** A ping during an outage: first after this long, then twice as long each time, up to the max. */
const PROBE_FIRST_MS = 1000;
const PROBE_MAX_MS = 15_000;

/**
 * Whether the database answers, as seen by this process. Every part that talks to the database
 * reports failures here; the first "cannot reach it" starts an outage, the first success after it
 * ends it, and listeners (catch-up, queued audit rows) run then. Never throws.
 */
export class DatabaseHealth {
  private since: Date | undefined;
  private servingWarned = false;
  private readonly upListeners = new Set<Listener>();
  /** Asks the followed connection whether the database answers again (see follow). */
  private probe: (() => Promise<void>) | undefined;
  private probing: NodeJS.Timeout | undefined;

  /** When the current outage started; undefined while the database answers. */
  get outageSince(): Date | undefined {
    return this.since;
  }

  get available(): boolean {
    return this.since === undefined;
  }

  /** Records a failed operation; true when it means "unreachable" (and starts an outage). */
  noteFailure(what: string, err: unknown): boolean {
    if (!isUnavailableError(err)) {
      logger.error(`Configuration ${what} failed`, errorDetail(err));
      return false;
    }
    this.startOutage(what, errorDetail(err).error as string);
    return true;
  }

  /** Starts an outage for a known reason (e.g. no connection could be made at start). */
  startOutage(what: string, reason: string): void {
    if (this.since) return;
    this.since = new Date();
    this.servingWarned = false;
    logger.warn(`Database unavailable (${what}): ${reason}`);
    this.scheduleProbe(PROBE_FIRST_MS);
  }

  /** Ends an outage, if there is one, and tells the listeners. */
  noteAvailable(): void {
    if (!this.since) return;
    this.since = undefined;
    clearTimeout(this.probing);
    this.probing = undefined;
    logger.info('Database reachable again');
    for (const fn of [...this.upListeners]) {
      try {
        fn();
      } catch (err) {
        logger.error('A database-recovery listener failed', errorDetail(err));
      }
    }
  }

  /** Calls `fn` each time an outage ends; returns the unsubscribe function. */
  onAvailable(fn: Listener): () => void {
    this.upListeners.add(fn);
    return () => void this.upListeners.delete(fn);
  }

  /**
   * Runs a database operation; "cannot reach it" is noted here and thrown as the user-facing
   * DatabaseUnavailableError (`userText` or the standard sentence), anything else as it was.
   */
  async guard<T>(what: string, fn: () => Promise<T>, userText?: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.asUnavailable(what, err, userText) ?? err;
    }
  }

  /** The user-facing error of an unreachable database (noted as an outage), or undefined for any other error. */
  asUnavailable(what: string, err: unknown, userText?: string): DatabaseUnavailableError | undefined {
    if (!isUnavailableError(err)) return undefined;
    this.noteFailure(what, err);
    return new DatabaseUnavailableError(errorDetail(err).error as string, userText);
  }

  /**
   * Follows a connection's own events: a lost connection starts an outage at once (before any
   * query fails), a restored one ends it, once `ready()` says the process uses the database
   * (a process started from the last-known-good copy attaches first). Returns the unsubscribe.
   */
  follow(conn: Connection, ready: () => boolean): () => void {
    const down = () =>
      this.noteFailure(
        'connection',
        Object.assign(new Error('connection lost'), { name: 'MongoNetworkError' }),
      );
    const up = () => {
      if (ready()) this.noteAvailable();
    };
    conn.on('disconnected', down);
    conn.on('reconnected', up);
    conn.on('connected', up);
    // The driver says "connected" once; an operation that failed after it (a pooled connection
    // cut by the restart) starts an outage no event will end, so a ping ends it instead.
    this.probe = async () => {
      if (!ready() || !conn.db) return;
      await conn.db.admin().ping();
      this.noteAvailable();
    };
    if (this.since) this.scheduleProbe(PROBE_FIRST_MS);
    return () => {
      this.probe = undefined;
      clearTimeout(this.probing);
      this.probing = undefined;
      conn.off('disconnected', down);
      conn.off('reconnected', up);
      conn.off('connected', up);
    };
  }

  /** Pings the followed connection during an outage, backing off to PROBE_MAX_MS, until it answers. */
  private scheduleProbe(delayMs: number): void {
    if (!this.probe || this.probing) return;
    this.probing = setTimeout(() => {
      this.probing = undefined;
      const probe = this.probe;
      if (!this.since || !probe) return;
      probe().then(
        () => {
          if (this.since) this.scheduleProbe(Math.min(delayMs * 2, PROBE_MAX_MS));
        },
        () => this.scheduleProbe(Math.min(delayMs * 2, PROBE_MAX_MS)),
      );
    }, delayMs);
    this.probing.unref();
  }

  /** Logs once per outage that reads are served from memory (called on the hot read path). */
  warnServingFromMemory(): void {
    if (!this.since || this.servingWarned) return;
    this.servingWarned = true;
    logger.warn('Database unavailable: serving configuration from memory (last known values).');
  }
}
