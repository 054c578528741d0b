import { randomBytes } from 'node:crypto';
import type { Actor } from './config-models.js';
import type { DbConnection } from './connection.js';
import { insertIfAbsent } from './insert-once.js';
import { LeaseTable, type Claim } from './lease.js';
import type { Scope } from './slots.js';

/**
 * Changes that happen later: the expiry of a temporary value (`set ... for:`) and a scheduled
 * change (`set ... at:`). One document each in `config_schedules`, found by its due time; this
 * module owns that collection, and the leases in `schedule_runs` under which a runner carries a
 * due change out. Which runner does, once, is the schedule runner's business.
 */
export type ScheduleKind = 'expire' | 'apply';
/** `running`: a runner claimed it (under its lease); a cancel is refused from then on. */
export type ScheduleStatus = 'pending' | 'running' | 'done' | 'skipped' | 'conflicted' | 'cancelled';

export interface ScheduleDoc {
  _id: string;
  key: string;
  scope: Scope;
  kind: ScheduleKind;
  runAt: Date;
  /** apply: the value to set; expire: the value to restore (absent when `unset`). */
  value?: unknown;
  /** expire: the override did not exist before the temporary value, so it is removed. */
  unset?: boolean;
  /**
   * The version of the key at that scope the change was planned against: the temporary version
   * (expire), or the version current when the change was scheduled (apply). If the key moved
   * past it, someone changed it since, and the newer change wins.
   */
  baseVersion: number;
  /** apply with `for:` too: how long the applied value holds before it expires. */
  thenForMs?: number;
  status: ScheduleStatus;
  createdBy: Actor;
  reason?: string;
  createdAt: Date;
  doneAt?: Date;
  /** What happened, in words (done, skipped, conflicted, cancelled). */
  outcome?: string;
  /** The runner that claimed it. */
  holder?: string;
  claimedAt?: Date;
}

export class ScheduleStore {
  constructor(private readonly conn: DbConnection) {}

  /** A short id people can read in /config pending. */
  static newId(): string {
    return randomBytes(6).toString('hex');
  }

  async ensureIndexes(): Promise<void> {
    await this.collection().createIndex({ status: 1, runAt: 1 });
    await this.collection().createIndex({ key: 1, status: 1 });
  }

  async add(doc: ScheduleDoc): Promise<void> {
    await this.collection().insertOne(doc);
  }

  /** Adds a change under an id derived from what planned it, once (a re-run plans nothing twice). */
  async addOnce(doc: ScheduleDoc): Promise<boolean> {
    return insertIfAbsent(this.collection(), doc);
  }

  async get(id: string): Promise<ScheduleDoc | undefined> {
    return (await this.collection().findOne({ _id: id })) ?? undefined;
  }

  /**
   * Changes due at `now`, oldest first: pending ones, and running ones (a runner that died holding
   * one leaves it running; its lease says whether it is still held).
   */
  async due(now: Date, limit = 50): Promise<ScheduleDoc[]> {
    return this.collection()
      .find({ status: { $in: ['pending', 'running'] }, runAt: { $lte: now } })
      .sort({ runAt: 1 })
      .limit(limit)
      .toArray();
  }

  /** Pending changes, soonest first; of one key when given. */
  async pending(key?: string, limit = 100): Promise<ScheduleDoc[]> {
    return this.collection()
      .find({ status: 'pending', ...(key ? { key } : {}) })
      .sort({ runAt: 1 })
      .limit(limit)
      .toArray();
  }

  /** Claims a pending change for `holder`; false when it is not pending (cancelled, claimed). */
  async claim(id: string, holder: string): Promise<boolean> {
    const res = await this.collection().updateOne(
      { _id: id, status: 'pending' },
      { $set: { status: 'running', holder, claimedAt: new Date() } },
    );
    return res.matchedCount === 1;
  }

  /** Ends a claimed change with its outcome; false when it was not running. */
  async finish(
    id: string,
    status: Exclude<ScheduleStatus, 'pending' | 'running' | 'cancelled'>,
    outcome: string,
  ): Promise<boolean> {
    const res = await this.collection().updateOne(
      { _id: id, status: 'running' },
      { $set: { status, outcome, doneAt: new Date() } },
    );
    return res.matchedCount === 1;
  }

  /** Cancels a change that no runner has claimed; false otherwise. */
  async cancel(id: string, outcome: string): Promise<boolean> {
    const res = await this.collection().updateOne(
      { _id: id, status: 'pending' },
      { $set: { status: 'cancelled', outcome, doneAt: new Date() } },
    );
    return res.matchedCount === 1;
  }

  private collection() {
    return this.conn.collection<ScheduleDoc>('config_schedules');
  }
}

/** The leases in `schedule_runs`: one per due change, held by the runner carrying it out. */
export class ScheduleRuns {
  private readonly table: LeaseTable<{ key: string }>;

  constructor(conn: DbConnection, { ttlMs }: { ttlMs: number }) {
    this.table = new LeaseTable(conn, 'schedule_runs', { ttlMs, what: 'change' });
  }

  async ensureIndexes(): Promise<void> {
    await this.table.ensureIndexes();
  }

  /**
   * Takes the lease of change `doc` for `holder`. `again`: a change still running after its last
   * lease ended (its holder could not record the outcome) is taken again; the change's own status
   * decides what is left to do.
   */
  acquire(doc: Pick<ScheduleDoc, '_id' | 'key'>, holder: string): Promise<Claim<{ key: string }>> {
    return this.table.acquire(`schedule:${doc._id}`, holder, { key: doc.key }, { again: true });
  }
}
