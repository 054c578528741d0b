import type { Connection } from 'mongoose';
import { LeaseTable, type Claim, type LeaseRecord } from '../db/lease.js';

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
 * Why an export cannot hold any row: everything up to its run time is in another export. A
 * user-facing refusal, not a failure.
 */
export class CoveredError extends Error {
  constructor(
    readonly date: string,
    readonly by: ExportRecord,
  ) {
    super(
      `Nothing to export for ${date}: the audit rows up to its export time are in the export of ${by.date} already (it covers ${by.windowStart?.toISOString()} to ${by.windowEnd?.toISOString()}).`,
    );
    this.name = 'CoveredError';
  }
}

/**
 * `export_logs`: one lease per exported date (who exports it, then what it wrote and which span
 * of the audit log it holds), and the export chain in `leases`, which lets one export at a time
 * choose its span, so that consecutive exports tile the audit log with no gap and no overlap.
 */
export class ExportLog {
  readonly dates: LeaseTable<ExportFields>;
  private readonly chain: LeaseTable<{ purpose: string }>;

  constructor(conn: Connection, { ttlMs }: { ttlMs: number }) {
    this.dates = new LeaseTable<ExportFields>(conn, 'export_logs', { ttlMs, what: 'export of' }, [
      { status: 1, windowEnd: 1 },
    ]);
    this.chain = new LeaseTable<{ purpose: string }>(conn, 'leases', { ttlMs, what: 'lease' });
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
   * The span of audit rows the export of `date` (run time `slot`) holds: from where the export
   * before it ended (or from the first audit row, or `slot` when there is none) to `slot`, cut
   * short where a later export already starts. Throws CoveredError when nothing is left.
   */
  async windowFor(date: string, slot: Date, firstAuditAt: Date | undefined): Promise<ExportWindow> {
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
    const start = before?.windowEnd ?? (firstAuditAt && firstAuditAt < slot ? firstAuditAt : slot);
    const next = after?.windowStart;
    if (!after || !next || next >= slot) return { start, end: slot };
    if (next <= start) throw new CoveredError(date, after);
    return { start, end: next };
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
