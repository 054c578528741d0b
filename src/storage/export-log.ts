import type { DbConnection } from './connection.js';
import { LeaseTable, type Claim, type LeaseRecord } from './lease.js';

export interface ExportFields {
  /** The exported date (YYYY-MM-DD in SCHEDULE_TIMEZONE). */
  date: string;
  /** The date's export time: the instant the snapshot is taken at. */
  slot: Date;
  trigger: 'schedule' | 'manual';
  forced?: boolean;
  /** The audit rows this export holds: createdAt in [windowStart, windowEnd). */
  windowStart?: Date;
  windowEnd?: Date;
  files?: string[];
  auditRows?: number;
  /** What the webhook answered, when one is set. */
  webhook?: string;
  error?: string;
}

export type ExportRecord = LeaseRecord<ExportFields>;

/** The half-open span of audit rows an export holds. */
export interface ExportWindow {
  start: Date;
  end: Date;
}

/**
 * `export_logs`: one lease per exported date (who exports it, then what it wrote and which span
 * of the audit log it holds), and the export chain in `leases`, which lets one export at a time
 * choose its span, so that consecutive exports tile the audit log with no gap and no overlap.
 */
export class ExportLog {
  private readonly dates: LeaseTable<ExportFields>;
  private readonly chain: LeaseTable<{ purpose: string }>;

  constructor(conn: DbConnection, { ttlMs }: { ttlMs: number }) {
    this.dates = new LeaseTable<ExportFields>(conn, 'export_logs', { ttlMs, what: 'export of' }, [
      { status: 1, windowEnd: 1 },
    ]);
    this.chain = new LeaseTable<{ purpose: string }>(conn, 'leases', { ttlMs, what: 'lease' });
  }

  /** The time by the database server's clock, which every exporting process shares. */
  now(): Promise<Date> {
    return this.dates.clock.sync();
  }

  async ensureIndexes(): Promise<void> {
    await this.dates.ensureIndexes();
    await this.chain.ensureIndexes();
  }

  claimDate(
    date: string,
    holder: string,
    fields: ExportFields,
    again: boolean,
  ): Promise<Claim<ExportFields>> {
    return this.dates.acquire(date, holder, fields, { again });
  }

  claimChain(holder: string): Promise<Claim<{ purpose: string }>> {
    return this.chain.acquire(
      'daily-export-chain',
      holder,
      { purpose: 'one export at a time' },
      { again: true },
    );
  }

  /**
   * The completed exports on either side of `slot`: the one whose span ends last at or before
   * it, and the one whose span ends first after it.
   */
  async around(slot: Date): Promise<{ before?: ExportRecord; after?: ExportRecord }> {
    const before = await this.dates.model
      .findOne({ status: 'completed', windowEnd: { $lte: slot } })
      .sort({ windowEnd: -1 })
      .lean<ExportRecord>()
      .exec();
    const after = await this.dates.model
      .findOne({ status: 'completed', windowEnd: { $gt: slot } })
      .sort({ windowEnd: 1 })
      .lean<ExportRecord>()
      .exec();
    return { ...(before ? { before } : {}), ...(after ? { after } : {}) };
  }

  /** The span the latest completed export of `date` held, if it has one (a forced re-run keeps it). */
  async completedWindow(date: string): Promise<ExportWindow | undefined> {
    const previous = await this.dates.model
      .findOne({ lease: date, status: 'completed', windowEnd: { $exists: true } })
      .sort({ attempt: -1 })
      .lean<ExportRecord>()
      .exec();
    return previous?.windowStart && previous.windowEnd
      ? { start: previous.windowStart, end: previous.windowEnd }
      : undefined;
  }

  /** Completed exports, newest span first (status, tests). */
  completed(limit = 10): Promise<ExportRecord[]> {
    return this.dates.model
      .find({ status: 'completed', windowEnd: { $exists: true } })
      .sort({ windowEnd: -1 })
      .limit(limit)
      .lean<ExportRecord[]>()
      .exec();
  }
}
