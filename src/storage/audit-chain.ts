import { setTimeout as sleep } from 'node:timers/promises';
import type mongoose from 'mongoose';
import { CHAIN_START, rowHash, type ChainLink } from './audit-hash.js';
import { errorDetail, logger } from '../base/logger.js';
import { isUnavailableError } from './connection.js';
import { isDuplicateKeyError } from './insert-once.js';

/** The newest row of the chain, as far as a writer knows. */
export interface ChainHead {
  seq: number;
  hash: string;
  id: string | null;
}

/** A chained audit row as stored (the audit fields are not this module's business). */
export type ChainedRow = Record<string, unknown> & ChainLink & { _id: unknown };

/** Tries before an append gives up (each failed try means another process appended meanwhile). */
const MAX_TRIES = 200;

const EMPTY: ChainHead = { seq: 0, hash: CHAIN_START, id: null };
const idText = (id: unknown): string => String(id);

/**
 * The audit rows as one hash chain: each row carries its place (`seq`, 1, 2, 3... without gaps),
 * the previous row's hash and id, and its own hash over all of that and its content.
 *
 * Appending is a compare-and-set on the chain's head: a row is inserted at head+1 under a unique
 * index on `seq`, so of two processes appending at once one wins the place and the other is
 * refused and tries after the new head. A row is written whole or not at all, so a process that
 * dies mid-append leaves the chain as it was. Where the head is comes from a marker document
 * (config_audit_head), moved forward after each append: a read by _id, where finding the newest
 * row would scan the collection on FerretDB. The marker may lag the chain (a writer stopped
 * between its row and the marker); the unique place still decides, and the next appender moves
 * the marker on.
 *
 * Appends of one process run one at a time (they would otherwise race each other for one place).
 */
export class AuditChain {
  private head: ChainHead | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** The last append that failed for want of the database, numbered (see serially). */
  private cut: { error: unknown; at: number } | undefined;
  private cuts = 0;
  private indexed: Promise<unknown> | undefined;

  /** The head marker: one document, `{ _id: 'head', seq, hash, id }`, read by _id (see after()). */
  private readonly heads: mongoose.Collection;

  constructor(private readonly collection: mongoose.Collection) {
    this.heads = collection.conn.collection('config_audit_head');
  }

  /**
   * Appends `doc` (its `_id` chosen by the caller) as the chain's next row: true when written,
   * false when a row with its id exists already (a retry of a write that landed, a repairer first).
   */
  append(doc: Record<string, unknown> & { _id: unknown }): Promise<boolean> {
    return this.serially(() => this.place(doc, (row) => this.collection.insertOne(row as never)));
  }

  /**
   * Chains rows written before the chain existed (no `seq`), oldest first, each changed by
   * `prepare` as it is sealed (sensitive values redacted) and marked `legacy`. Safe to run in
   * several processes at once: a row is sealed by one update that requires it unsealed, under the
   * same unique place as appends. Returns how many rows this call sealed.
   */
  async sealUnchained(prepare: (row: Record<string, unknown>) => Record<string, unknown>): Promise<number> {
    let sealed = 0;
    for (;;) {
      const batch = await this.collection
        .find({ seq: { $exists: false } })
        .sort({ createdAt: 1, _id: 1 })
        .limit(500)
        .toArray();
      if (!batch.length) return sealed;
      for (const original of batch) {
        const { _id, ...rest } = original;
        const doc = { _id, ...prepare(rest), legacy: true };
        const done = await this.serially(() =>
          this.place(
            doc,
            async (row) => {
              const { _id: id, ...fields } = row;
              const res = await this.collection.updateOne(
                { _id: id as never, seq: { $exists: false } },
                { $set: fields },
              );
              // Sealed meanwhile by another process: not ours to count, and no place taken.
              if (res.matchedCount === 0) throw new AlreadyPlaced();
            },
            false,
          ),
        );
        if (done) sealed++;
      }
    }
  }

  /** The newest row's place and hash, read from the database. */
  async readHead(): Promise<ChainHead> {
    const [row] = await this.collection
      .find({ seq: { $exists: true } }, { projection: { seq: 1, hash: 1 } })
      .sort({ seq: -1 })
      .limit(1)
      .toArray();
    return row ? { seq: row.seq as number, hash: row.hash as string, id: idText(row._id) } : EMPTY;
  }

  /** Chained rows with `from` ≤ seq ≤ `to`, in order, in batches (verification). */
  async *inOrder(from: number, to: number, batchSize = 2000): AsyncGenerator<ChainedRow[]> {
    const cursor = this.collection
      .find({ seq: { $gte: from, $lte: to } })
      .sort({ seq: 1 })
      .batchSize(batchSize);
    let batch: ChainedRow[] = [];
    for await (const row of cursor) {
      batch.push(row as ChainedRow);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }

  /** The row at a place, if any. */
  async at(seq: number): Promise<ChainedRow | undefined> {
    const row = await this.collection.findOne({ seq });
    return (row as ChainedRow | null) ?? undefined;
  }

  /** How many chained rows were written before the chain existed (sealed late). */
  countLegacy(): Promise<number> {
    return this.collection.countDocuments({ legacy: true });
  }

  /** Rows with no place in the chain (written around it): their ids and times. */
  async unchained(limit: number): Promise<{ id: string; createdAt: Date | undefined }[]> {
    const rows = await this.collection
      .find({ seq: { $exists: false } }, { projection: { _id: 1, createdAt: 1 } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return rows.map((r) => ({ id: idText(r._id), createdAt: r.createdAt as Date | undefined }));
  }

  /**
   * Runs `work` after the appends queued before it. When one fails because the database is out
   * of reach, those queued behind it fail at once with its error: each would otherwise wait out
   * its own server-selection timeout in turn (the fourth of four writers cut by an outage answered
   * after 9 s instead of 3). Work queued after the failure tries the database again.
   */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const queuedAfter = this.cuts;
    const run = this.tail.then(() => {
      if (this.cut && this.cut.at > queuedAfter) throw this.cut.error;
      return work().catch((err: unknown) => {
        if (isUnavailableError(err)) this.cut = { error: err, at: ++this.cuts };
        throw err;
      });
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes `doc` at the first free place after the head: `write` must fail with a duplicate-key
   * error when the place (or the id) is taken. True when written, false when the id was there.
   */
  private async place(
    doc: Record<string, unknown> & { _id: unknown },
    write: (row: ChainedRow) => Promise<unknown>,
    /** Whether a duplicate key can mean "this row was written before" (an insert's retry). */
    retried = true,
  ): Promise<boolean> {
    this.indexed ??= this.collection
      .createIndex({ seq: 1 }, { unique: true, sparse: true, name: 'seq_1' })
      .catch((err: unknown) => {
        this.indexed = undefined;
        throw err;
      });
    await this.indexed;
    let head = this.head ?? (await this.marked());
    for (let tries = 1; ; tries++) {
      const link = { seq: head.seq + 1, prevHash: head.hash, prevId: head.id };
      const row = { ...doc, ...link } as Record<string, unknown> & { _id: unknown };
      const chained = { ...row, hash: rowHash(row) } as ChainedRow;
      try {
        await write(chained);
      } catch (err) {
        this.head = undefined;
        if (err instanceof AlreadyPlaced) return false;
        if (!isDuplicateKeyError(err)) throw err;
        if (retried && (await this.collection.findOne({ _id: doc._id as never }, { projection: { _id: 1 } })))
          return false;
        if (tries >= MAX_TRIES)
          throw new Error(`audit chain: no free place after ${MAX_TRIES} tries (seq ${link.seq})`);
        head = await this.after(head);
        // Several processes appending at once: a little jitter spreads their next tries apart.
        if (tries % 10 === 0) await sleep(Math.random() * 5);
        continue;
      }
      this.head = { seq: chained.seq, hash: chained.hash, id: idText(doc._id) };
      await this.mark(this.head);
      return true;
    }
  }

  /** The head as the marker says (a read by _id; it may lag the chain by the rows of a writer that stopped). */
  markedHead(): Promise<ChainHead> {
    return this.marked();
  }

  /** The head as the marker says (a read by _id); from the rows when there is no marker yet. */
  private async marked(): Promise<ChainHead> {
    const m = await this.heads.findOne({ _id: 'head' as never });
    return m
      ? { seq: m.seq as number, hash: m.hash as string, id: (m.id as string | null) ?? null }
      : this.readHead();
  }

  /**
   * Where to try next when the place after `stale` is taken: the marker, if it moved past it;
   * else the row that took the place (its writer has not moved the marker yet, or stopped
   * before it did), which this process then marks for the others.
   */
  private async after(stale: ChainHead): Promise<ChainHead> {
    const marked = await this.marked();
    if (marked.seq > stale.seq) return marked;
    const there = await this.at(stale.seq + 1);
    if (!there) return this.readHead();
    const head = { seq: there.seq, hash: there.hash, id: idText(there._id) };
    await this.mark(head);
    return head;
  }

  /**
   * Moves the marker forward to a place that was written (never back). Best effort: a marker left
   * behind only costs the next appender a read of the row past it.
   */
  private async mark(head: ChainHead): Promise<void> {
    try {
      await this.heads.updateOne(
        { _id: 'head' as never, seq: { $lt: head.seq } },
        { $set: { seq: head.seq, hash: head.hash, id: head.id } },
        { upsert: true },
      );
    } catch (err) {
      // Ahead already (the upsert found the marker at or past this place), or unreachable: both harmless.
      if (!isDuplicateKeyError(err)) logger.warn('Could not move the audit chain marker', errorDetail(err));
    }
  }
}

/** Another process sealed the row first. */
class AlreadyPlaced extends Error {}
