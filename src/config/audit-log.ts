import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { dataDirFix } from '../base/local-files.js';
import writeFileAtomic from 'write-file-atomic';
import { isUnavailableError } from '../storage/connection.js';
import type { DatabaseHealth } from '../storage/health.js';
import { errorDetail, logger } from '../base/logger.js';
import type { ConfigAuditDoc } from '../storage/config-models.js';
import { masked } from './present.js';
import type { Registry } from './registry.js';
import { AuditRows, type AuditFilter } from '../storage/audit-rows.js';

export type AuditRow = Omit<ConfigAuditDoc, 'createdAt'>;

const READ_UNAVAILABLE = 'Database unavailable; try again in a moment.';
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

export interface AuditLogOptions {
  /**
   * Where rows that could not be written (database unreachable) wait, so that a restart during
   * an outage loses none of them. Without it they wait in memory only.
   */
  queueFile?: string;
  /** Rows kept waiting at most; past it the oldest are dropped, each drop logged. */
  maxQueued?: number;
}

/** A queued row as kept on disk: values already encrypted, dates as text, its id chosen at the attempt. */
interface QueuedRow extends Omit<ConfigAuditDoc, 'createdAt'> {
  createdAt: Date | string;
  /** The id its first attempt used (hex): writing it again cannot make a second row. Absent in older files. */
  id?: string;
}

/**
 * The audit log: one row per attempt. Recording never throws and never delays an answer: a row
 * that cannot be written because the database is unreachable is queued (on disk when a file is
 * given) and written when the database is back, marked as written late (its attempt time in
 * `attemptedAt`). Views mask sensitive values.
 */
export class AuditLog {
  private queue: QueuedRow[] = [];
  private flushing: Promise<number> | undefined;
  private saving = Promise.resolve();
  private readonly maxQueued: number;
  /** A flush tried again after a failure that was not an outage (which ends with its own flush). */
  private retry: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;

  constructor(
    private readonly store: AuditRows,
    private readonly registry: Registry,
    private readonly health: DatabaseHealth,
    private readonly opts: AuditLogOptions = {},
  ) {
    this.maxQueued = opts.maxQueued ?? 10_000;
  }

  /** Loads rows queued by an earlier run of this process that could not write them. */
  async loadQueue(): Promise<void> {
    if (!this.opts.queueFile) return;
    let text: string;
    try {
      text = await readFile(this.opts.queueFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        logger.error(`Could not read queued audit rows from ${this.opts.queueFile}`, errorDetail(err));
      return;
    }
    try {
      const rows = JSON.parse(text) as QueuedRow[];
      if (rows.length)
        logger.info(`${rows.length} audit rows from an earlier outage are waiting to be written`);
      this.queue = [...rows, ...this.queue];
    } catch (err) {
      logger.error(
        `Queued audit rows in ${this.opts.queueFile} are unreadable; left as they are`,
        errorDetail(err),
      );
    }
  }

  /** Rows waiting for the database. */
  get queued(): number {
    return this.queue.length;
  }

  /** Writes one row; when the database is unreachable, queues it instead. Never throws. */
  async record(row: AuditRow): Promise<void> {
    const clean = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)) as AuditRow;
    const doc: ConfigAuditDoc = { ...clean, createdAt: new Date() };
    // Chosen here, so a row queued after a failed attempt that reached the database anyway is one row.
    const id = AuditRows.newId();
    try {
      if (!this.health.available)
        throw Object.assign(new Error('database unavailable'), { name: 'MongoNetworkError' });
      await this.store.insert(doc, id);
    } catch (err) {
      if (isUnavailableError(err)) {
        this.health.noteFailure('audit', err);
        this.enqueue(doc, id);
      } else {
        logger.error(`Audit row lost for ${row.action} ${row.key} (${row.status})`, errorDetail(err));
      }
    }
  }

  /**
   * Writes every queued row, oldest first, each stamped with the time it is written (`createdAt`,
   * which exports go by) and the time of its attempt (`attemptedAt`). Stops at the first failure
   * and keeps the rest. Returns how many were written.
   */
  flush(): Promise<number> {
    this.flushing ??= this.writeQueued().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Rows matching a filter, newest first, sensitive values masked. */
  async view(filter: AuditFilter = {}): Promise<ConfigAuditDoc[]> {
    const rows = await this.health.guard('read', () => this.store.view(filter), READ_UNAVAILABLE);
    return rows.map((r) => this.mask(r));
  }

  /** The time of the first row (where the first export starts), if any. */
  async firstAt(): Promise<Date | undefined> {
    return this.health.guard('read', () => this.store.firstAt(), READ_UNAVAILABLE);
  }

  /** Rows written in [since, until), oldest first, in batches, sensitive values masked (exports). */
  async *batches(since: Date, until: Date, batchSize: number): AsyncGenerator<ConfigAuditDoc[]> {
    for await (const batch of this.store.batches(since, until, batchSize))
      yield batch.map((r) => this.mask(r));
  }

  /** Waits for the queue file to be written (shutdown, tests). */
  async settle(): Promise<void> {
    await this.saving;
  }

  private mask(r: ConfigAuditDoc): ConfigAuditDoc {
    const def = this.registry.get(r.key);
    return { ...r, oldValue: masked(def, r.oldValue), newValue: masked(def, r.newValue) };
  }

  private enqueue(doc: ConfigAuditDoc, id: string): void {
    // Kept encrypted, like the database would keep it: the queue file holds no secret in clear.
    this.queue.push({ ...this.store.seal(doc), id });
    if (this.queue.length > this.maxQueued) {
      const dropped = this.queue.shift();
      logger.error(
        `Audit queue full (${this.maxQueued} rows): dropped the oldest (${dropped?.action} ${dropped?.key})`,
      );
    }
    logger.warn(`Audit row queued until the database is back: ${doc.action} ${doc.key} ${doc.status}`);
    this.save();
  }

  private async writeQueued(): Promise<number> {
    let written = 0;
    while (this.queue.length) {
      const [row] = this.queue;
      if (!row) break;
      const now = new Date();
      const { id, ...rest } = row;
      try {
        await this.store.insertSealed({ ...rest, attemptedAt: new Date(row.createdAt), createdAt: now }, id);
      } catch (err) {
        // An outage ends with a flush of its own; any other failure is tried again, backing off.
        if (!this.health.noteFailure('queued audit rows', err)) this.retryLater();
        break;
      }
      this.queue.shift();
      written++;
    }
    if (!this.queue.length) this.retryMs = RETRY_FIRST_MS;
    if (written) {
      logger.info(`Wrote ${written} audit rows queued during the outage (marked as written late)`);
      this.save();
    }
    return written;
  }

  private retryLater(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.flush();
    }, this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /** Rewrites the queue file atomically; writes are chained so the newest state lands last. */
  private save(): void {
    const file = this.opts.queueFile;
    if (!file) return;
    const snapshot = JSON.stringify(this.queue);
    this.saving = this.saving
      .then(() => writeFileAtomic(file, snapshot))
      .catch((err: unknown) => {
        logger.error(
          `Could not save queued audit rows to ${file}: ${dataDirFix(err, path.dirname(file))}; they are kept in memory until the database is back`,
          errorDetail(err),
        );
      });
  }
}
