import { errorDetail, logger } from '../logger.js';
import { isUnavailableError } from './connection.js';

type Listener = () => void;

/**
 * Whether the database answers, as seen by this process. Every part that talks to the database
 * reports failures here; the first "cannot reach it" starts an outage, the first success after it
 * ends it, and listeners (catch-up, queued audit rows) run then. Never throws.
 */
export class DatabaseHealth {
  private since: Date | undefined;
  private servingWarned = false;
  private readonly upListeners = new Set<Listener>();

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
  }

  /** Ends an outage, if there is one, and tells the listeners. */
  noteAvailable(): void {
    if (!this.since) return;
    this.since = undefined;
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

  /** Logs once per outage that reads are served from memory (called on the hot read path). */
  warnServingFromMemory(): void {
    if (!this.since || this.servingWarned) return;
    this.servingWarned = true;
    logger.warn('Database unavailable: serving configuration from memory (last known values).');
  }
}
