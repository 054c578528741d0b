import type { Connection } from 'mongoose';
import { LeaseTable } from '../db/lease.js';
import { isUserError } from '../errors.js';
import { errorDetail, logger } from '../logger.js';
import type { ScheduleDoc } from './schedules.js';
import type { ConfigService } from './service.js';

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
  private readonly leases: LeaseTable<{ key: string }>;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  private indexed = false;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly config: ConfigService,
    conn: Connection,
    private readonly opts: ScheduleRunnerOptions,
  ) {
    this.leases = new LeaseTable(conn, 'schedule_runs', { ttlMs: opts.leaseTtlMs ?? 60_000, what: 'change' });
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

  /** Runs every due change once (tests call it directly). */
  async tick(): Promise<number> {
    if (!this.indexed) {
      await this.leases.ensureIndexes();
      this.indexed = true;
    }
    let done = 0;
    for (const doc of await this.config.schedules.due(new Date())) if (await this.runOne(doc)) done++;
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

  /** Takes the change's lease and carries it out; false when another process has it. */
  private async runOne(doc: ScheduleDoc): Promise<boolean> {
    const claim = await this.leases.acquire(`schedule:${doc._id}`, this.opts.holder, { key: doc.key });
    if (claim.kind !== 'acquired') return false;
    const lease = claim.lease;
    try {
      const [status, outcome] = await this.carryOut(doc);
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
    if (await this.alreadyApplied(doc)) return ['done', 'applied (recorded after a take-over)'];
    try {
      const r = await this.config.applySchedule(doc);
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
      return ['conflicted', `refused by today's rules: ${err.message}`];
    }
  }

  private async alreadyApplied(doc: ScheduleDoc): Promise<boolean> {
    const rows = await this.config.history(doc.key, { scope: doc.scope, after: doc.baseVersion, limit: 1 });
    return rows.some((v) => v.version === doc.baseVersion + 1 && v.actor.id === `schedule:${doc._id}`);
  }
}

function describe(doc: ScheduleDoc): string {
  return `${doc.kind === 'expire' ? 'Expiry of the temporary value of' : 'Scheduled change of'} ${doc.key} at ${doc.scope} (${doc._id})`;
}
