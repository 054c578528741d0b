import { isUnavailableError, type DbConnection } from '../storage/connection.js';
import { ScheduleRuns, type ScheduleDoc } from '../storage/schedules.js';
import { isUserError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import { slotId } from '../config/scopes.js';
import type { ConfigVersionDoc } from '../storage/config-models.js';
import type { DatabaseHealth } from '../storage/health.js';
import type { ScheduleStore } from '../storage/schedules.js';
import type { TimedChanges } from './timed.js';

/** What the runner needs of the configuration service. */
export interface RunnerConfig {
  readonly schedules: ScheduleStore;
  readonly timed: TimedChanges;
  readonly health: DatabaseHealth;
  storedVersion(slot: string, version: number): Promise<ConfigVersionDoc | undefined>;
}

export interface ScheduleRunnerOptions {
  /** This process, as the holder of the leases it takes. */
  holder: string;
  /** How often due changes are looked for. */
  intervalMs?: number;
  /** LEASE_TTL_MS: a holder silent this long is taken over. */
  leaseTtlMs?: number;
  /** Posts a line to the alert channel (a scheduled change that could not be applied). */
  alert?: (text: string) => Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Carries out due changes (expiries of temporary values, scheduled changes) exactly once across
 * every process that runs one: each change is taken under a lease (a holder that dies is taken
 * over), and the change itself is a compare-and-set against the version it was planned on, so a
 * second attempt can never apply it twice. A change whose key moved at that scope since it was
 * planned is not applied: an expiry is skipped (the newer change wins), a scheduled change is
 * marked conflicted and alerted. Never throws; backs off while the database is away.
 */
export class ScheduleRunner {
  private readonly leases: ScheduleRuns;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  private indexed = false;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly config: RunnerConfig,
    conn: DbConnection,
    private readonly opts: ScheduleRunnerOptions,
  ) {
    this.leases = new ScheduleRuns(conn, { ttlMs: opts.leaseTtlMs ?? 60_000 });
  }

  /** Starts looking for due changes; the database may be unreachable yet (it backs off then). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /**
   * Runs every due change once (tests call it directly). One change that cannot be carried out
   * is recorded as such and never holds up the others; only an unreachable database stops the
   * round (it is tried again, with backoff).
   */
  async tick(): Promise<number> {
    if (!this.indexed) {
      await this.leases.ensureIndexes();
      this.indexed = true;
    }
    let done = 0;
    for (const doc of await this.config.schedules.due(new Date())) {
      try {
        if (await this.runOne(doc)) done++;
      } catch (err) {
        if (unreachable(err)) throw err;
        logger.error(`${describe(doc)} failed`, errorDetail(err));
      }
    }
    return done;
  }

  private schedule(delay: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.loop();
    }, delay);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    let delay = this.opts.intervalMs ?? 1000;
    try {
      await this.tick();
      this.failures = 0;
    } catch (err) {
      this.failures++;
      delay = Math.min(delay * 2 ** this.failures, MAX_BACKOFF_MS);
      if (!this.config.health.noteFailure('scheduled changes', err))
        logger.error('Scheduled changes failed', errorDetail(err));
    } finally {
      this.schedule(delay);
    }
  }

  /**
   * Takes the change's lease, claims it (a cancel is refused from then on) and carries it out;
   * false when another process has it, or it was cancelled meanwhile. A change left running by a
   * holder that died is taken over with its lease.
   */
  private async runOne(doc: ScheduleDoc): Promise<boolean> {
    const claim = await this.leases.acquire(doc, this.opts.holder);
    if (claim.kind !== 'acquired') return false;
    const lease = claim.lease;
    try {
      const fresh = await this.config.schedules.get(doc._id);
      const mine =
        fresh?.status === 'running' ||
        (fresh?.status === 'pending' && (await this.config.schedules.claim(doc._id, this.opts.holder)));
      if (!fresh || !mine) {
        await lease.finish('completed');
        return false;
      }
      let status: 'done' | 'skipped' | 'conflicted';
      let outcome: string;
      try {
        [status, outcome] = await this.carryOut(fresh);
      } catch (err) {
        if (unreachable(err)) throw err;
        // A change that cannot be carried out (a key no longer declared, a bug): say so, once.
        [status, outcome] = [
          'conflicted',
          `could not be applied: ${err instanceof Error ? err.message : String(err)}`,
        ];
      }
      await this.config.schedules.finish(doc._id, status, outcome);
      await lease.finish('completed');
      logger.info(`${describe(doc)}: ${outcome}`);
      if (status === 'conflicted') await this.opts.alert?.(`⚠️ ${describe(doc)} was not applied: ${outcome}`);
      return true;
    } catch (err) {
      await lease.finish('failed').catch(() => undefined);
      throw err;
    }
  }

  private async carryOut(doc: ScheduleDoc): Promise<['done' | 'skipped' | 'conflicted', string]> {
    // A holder that died after applying the change but before recording it: the change is there.
    if (await this.alreadyApplied(doc)) {
      await this.config.timed.ensureExpiryOf(doc);
      return ['done', 'applied (recorded after a take-over)'];
    }
    try {
      const r = await this.config.timed.apply(doc);
      if (doc.kind === 'apply' && doc.thenForMs !== undefined && !r.until)
        return [
          'conflicted',
          `applied as v${r.version}, but its expiry could not be planned: it stays until changed`,
        ];
      return ['done', `applied as v${r.version}`];
    } catch (err) {
      if (!isUserError(err) || err.code === 'UNAVAILABLE') throw err;
      if (err.code === 'UNCHANGED') return ['done', 'nothing to do: already that value'];
      if (err.code === 'CONFLICT')
        return doc.kind === 'expire'
          ? [
              'skipped',
              `skipped: ${doc.key} was changed at ${doc.scope} since the temporary value (v${doc.baseVersion}); the newer change wins`,
            ]
          : [
              'conflicted',
              `conflicted: ${doc.key} was changed at ${doc.scope} after the change was scheduled (v${doc.baseVersion})`,
            ];
      if (err.code === 'INVALID_VALUE' || err.code === 'RULE_VIOLATION' || err.code === 'ENCRYPTION_REQUIRED')
        return ['conflicted', `refused by today's rules: ${err.message}`];
      return ['conflicted', `could not be applied: ${err.message}`];
    }
  }

  private async alreadyApplied(doc: ScheduleDoc): Promise<boolean> {
    const next = await this.config.storedVersion(slotId(doc.key, doc.scope), doc.baseVersion + 1);
    return next?.actor.id === `schedule:${doc._id}`;
  }
}

/** The database could not be reached (as the driver says it, or as the service reworded it). */
function unreachable(err: unknown): boolean {
  return isUnavailableError(err) || (isUserError(err) && err.code === 'UNAVAILABLE');
}

function describe(doc: ScheduleDoc): string {
  return `${doc.kind === 'expire' ? 'Expiry of the temporary value of' : 'Scheduled change of'} ${doc.key} at ${doc.scope} (${doc._id})`;
}
