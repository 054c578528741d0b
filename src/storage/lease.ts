import { Schema, type Connection, type Model } from 'mongoose';
import { errorDetail, logger } from '../base/logger.js';
import { insertIfAbsent } from './insert-once.js';
import { serverClock, type ServerClock } from './server-clock.js';

export type LeaseStatus = 'running' | 'completed' | 'failed' | 'abandoned';

/**
 * One attempt at a leased piece of work. Attempt 1 of lease `L` has `_id` L, attempt n has
 * `L#n`: taking a lease is always an insert of the next attempt, so exactly one process wins it
 * on MongoDB and FerretDB alike, with no update that would have to be atomic.
 */
export interface LeaseBase {
  _id: string;
  lease: string;
  attempt: number;
  holder: string;
  status: LeaseStatus;
  startedAt: Date;
  heartbeatAt: Date;
  finishedAt?: Date;
  /** The holder this attempt took over from (it stopped heart-beating). */
  tookOverFrom?: string;
}

export type LeaseRecord<F> = LeaseBase & F;

export type Claim<F> =
  | { kind: 'acquired'; lease: Lease<F>; tookOver?: LeaseRecord<F> }
  /** A live holder has it. */
  | { kind: 'held'; current: LeaseRecord<F> }
  /** Done already, and `again` was not asked for. */
  | { kind: 'completed'; current: LeaseRecord<F> };

export interface LeaseTableOptions {
  /** A holder that has not heart-beaten for this long is considered gone. */
  ttlMs: number;
  /** What a lease of this table is, for log lines ("export of", "run of"). */
  what: string;
}

const attemptId = (lease: string, attempt: number) => (attempt === 1 ? lease : `${lease}#${attempt}`);

/**
 * Leases with a holder and a heartbeat, in one collection: the daily export's dates, the
 * scheduler's runs, and the export chain. A lease whose holder stopped heart-beating (killed,
 * frozen, cut off) is taken over by the next process that asks, and the take-over is logged.
 * Heartbeats are stamped and judged by the database server's clock (ServerClock), so a process
 * whose own clock is minutes off does not take a live lease over, nor keep a dead one.
 */
export class LeaseTable<F extends object> {
  readonly model: Model<LeaseRecord<F>>;
  readonly clock: ServerClock;

  constructor(
    conn: Connection,
    collection: string,
    readonly opts: LeaseTableOptions,
    /** Indexes on the extra fields this table is queried by. */
    extraIndexes: Record<string, 1 | -1>[] = [],
  ) {
    this.clock = serverClock(conn);
    const name = `Lease:${collection}`;
    const existing = conn.models[name] as Model<LeaseRecord<F>> | undefined;
    if (existing) {
      this.model = existing;
      return;
    }
    const schema = new Schema<LeaseRecord<F>>(
      { _id: { type: String, required: true } },
      { collection, strict: false, versionKey: false, bufferCommands: false, autoIndex: false },
    );
    schema.index({ lease: 1, attempt: -1 });
    schema.index({ status: 1, heartbeatAt: 1 });
    for (const fields of extraIndexes) schema.index(fields);
    this.model = conn.model<LeaseRecord<F>>(name, schema);
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

  /** The newest attempt of a lease (records written before leases had attempts count as 1). */
  async latest(lease: string): Promise<LeaseRecord<F> | undefined> {
    const doc = await this.model
      .findOne({ $or: [{ lease }, { _id: lease }] })
      .sort({ attempt: -1 })
      .lean<LeaseRecord<F>>()
      .exec();
    return doc ? { ...doc, lease, attempt: doc.attempt ?? 1 } : undefined;
  }

  isStale(record: Pick<LeaseBase, 'heartbeatAt' | 'startedAt'>, now = this.clock.now().getTime()): boolean {
    const beat = record.heartbeatAt ?? record.startedAt;
    return !beat || now - beat.getTime() > this.opts.ttlMs;
  }

  /**
   * Takes `lease` for `holder`: free, failed, abandoned, or held by a holder that stopped
   * heart-beating (taken over, logged). A completed lease is taken again only with `again`.
   */
  async acquire(lease: string, holder: string, fields: F, { again = false } = {}): Promise<Claim<F>> {
    // Each lost insert means another process took the next attempt; it then holds the lease.
    for (let tries = 0; tries < 5; tries++) {
      const latest = await this.latest(lease);
      const now = await this.clock.sync();
      let tookOver: LeaseRecord<F> | undefined;
      if (latest?.status === 'running') {
        if (!this.isStale(latest, now.getTime())) return { kind: 'held', current: latest };
        tookOver = latest;
      } else if (latest?.status === 'completed' && !again) {
        return { kind: 'completed', current: latest };
      }
      const attempt = (latest?.attempt ?? 0) + 1;
      const record = {
        ...fields,
        _id: attemptId(lease, attempt),
        lease,
        attempt,
        holder,
        status: 'running',
        startedAt: now,
        heartbeatAt: now,
        ...(tookOver ? { tookOverFrom: tookOver.holder } : {}),
      } as LeaseRecord<F>;
      // Losing this insert means another process took this attempt a moment ago: look again.
      if (!(await insertIfAbsent(this.model.collection, record))) continue;
      if (tookOver) await this.abandon(tookOver, holder);
      return { kind: 'acquired', lease: new Lease(this, record), ...(tookOver ? { tookOver } : {}) };
    }
    throw new Error(
      `Could not take the ${this.opts.what} ${lease}: it changed hands five times while trying`,
    );
  }

  /** Marks every running attempt whose holder stopped heart-beating as abandoned; returns how many. */
  async abandonStale(): Promise<number> {
    const before = new Date((await this.clock.sync()).getTime() - this.opts.ttlMs);
    const stale = await this.model
      .find({
        status: 'running',
        $or: [
          { heartbeatAt: { $lt: before } },
          { heartbeatAt: { $exists: false }, startedAt: { $lt: before } },
        ],
      })
      .lean<LeaseRecord<F>[]>()
      .exec();
    for (const record of stale) await this.abandon(record);
    return stale.length;
  }

  private async abandon(record: LeaseRecord<F>, by?: string): Promise<void> {
    const beat = record.heartbeatAt ?? record.startedAt;
    logger.warn(
      `${by ? `Took over the ${this.opts.what} ${record.lease ?? record._id}` : `Abandoned the ${this.opts.what} ${record.lease ?? record._id}`} ` +
        `from ${record.holder}: no heartbeat since ${beat ? beat.toISOString() : 'it started'}`,
    );
    await this.model.collection
      .updateOne(
        { _id: record._id as never, status: 'running', holder: record.holder },
        { $set: { status: 'abandoned', finishedAt: this.clock.now(), ...(by ? { takenOverBy: by } : {}) } },
      )
      .catch((err: unknown) => logger.warn(`Could not mark ${record._id} abandoned`, errorDetail(err)));
  }
}

/**
 * A lease held by this process. It heart-beats on its own until finished; `lost` turns true when
 * another process took it over (this one stalled past the TTL), and the holder should stop.
 */
export class Lease<F> {
  lost = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly table: LeaseTable<F & object>,
    readonly record: LeaseRecord<F>,
  ) {
    this.timer = setInterval(() => void this.heartbeat(), Math.max(250, Math.floor(table.opts.ttlMs / 3)));
    this.timer.unref();
  }

  get id(): string {
    return this.record.lease;
  }

  /** Sets fields on this attempt's record. */
  async update(fields: Partial<F>): Promise<void> {
    Object.assign(this.record, fields);
    await this.table.model.collection.updateOne({ _id: this.record._id as never }, { $set: fields });
  }

  /** Ends the lease with its outcome; heart-beating stops. */
  async finish(status: 'completed' | 'failed', fields: Partial<F> = {}): Promise<void> {
    this.stop();
    Object.assign(this.record, fields, { status });
    await this.table.model.collection.updateOne(
      { _id: this.record._id as never },
      { $set: { ...fields, status, finishedAt: this.table.clock.now() } },
    );
  }

  /** Stops heart-beating without recording an outcome (the process is going away). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Records that this holder is alive; false once another process has taken the lease over. */
  async heartbeat(): Promise<boolean> {
    if (this.lost) return false;
    try {
      const r = await this.table.model.collection.updateOne(
        { _id: this.record._id as never, holder: this.record.holder, status: 'running' },
        { $set: { heartbeatAt: await this.table.clock.sync() } },
      );
      const newer = await this.table.model.exists({
        lease: this.record.lease,
        attempt: { $gt: this.record.attempt },
      });
      if (r.matchedCount === 0 || newer) {
        this.lost = true;
        this.stop();
        logger.warn(`Lost the ${this.table.opts.what} ${this.record.lease}: another process took it over`);
      }
    } catch (err) {
      // A missed beat is not fatal: the lease lasts a whole TTL, and the next beat may get through.
      logger.debug(`Heartbeat of ${this.record.lease} failed`, errorDetail(err));
    }
    return !this.lost;
  }
}
