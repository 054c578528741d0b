import type { DbConnection } from './connection.js';
import { insertIfAbsent } from './insert-once.js';

/**
 * One counted event of a bucket (a user's write attempts, a user's changes, a token's writes):
 * `<bucket>#<sequence number>`, inserted once. `released`: it turned out not to happen (a
 * reserved change that was not made), so it no longer counts.
 */
interface EntryDoc {
  _id: string;
  at: Date;
  released?: boolean;
}

type Entry = EntryDoc & { seq: number };

/** A count waiting for its answer. */
interface Waiter {
  window: RateWindow;
  /** When it came: it is refused only on a read made after. */
  since: number;
  resolve(taken: Taken): void;
  reject(err: unknown): void;
}

/** What a bucket allows: `limit` events in any `windowMs`. */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

/** The answer to a count: the entry taken (to release it), or how full the bucket is. */
export type Taken =
  | { taken: true; entry: string }
  | {
      taken: false;
      /** Events counted in the window, at least the limit. */
      count: number;
      /** When the oldest of them happened: a place frees up one window after it. */
      oldest: Date;
    };

/** Zero-padded, so that the entries of a bucket sort by number. */
const SEQ_DIGITS = 12;
/**
 * Reads in a row that answer no count before the waiting ones are refused: a bucket is read again
 * only when numbers taken since the last read filled it, or a count came after it, so this bounds
 * a pathological loop (room released as fast as it is refilled), not a normal count.
 */
const MAX_READS = 8;

const entryId = (bucket: string, seq: number): string => `${bucket}#${String(seq).padStart(SEQ_DIGITS, '0')}`;

/**
 * Where every write limit counts (`config_rate_limits`), shared by every bot and API process.
 *
 * A count must hold when one user or token writes in parallel from several processes, and the
 * one write both MongoDB and FerretDB 1.x arbitrate atomically is a unique insert (FerretDB runs
 * a conditional update as a read then a write, so a guarded `$inc` or `$push` can let two
 * writers through). So each counted event is a document of its own, numbered in its bucket: a
 * count reads the bucket, and takes the number after the highest by inserting it, only while
 * fewer than `limit` entries are in the window. Two processes that read the same state both try
 * the same number and one insert fails; the loser counts that number as taken and tries the next
 * while the bucket still has room, then reads again. A number is only tried by a process that saw
 * its predecessor taken, so whatever was inserted between a winner's read and its insert had to
 * win a number below the winner's: every event the winner did not see, it counted as taken.
 * Entries are deleted two windows after they happened, the highest never (it carries the
 * numbering): a number could be taken twice only by a count that stalled for two windows
 * between its read and its insert. Records of the earlier format (one document per user, by its
 * id alone) are outside every bucket and ignored.
 */
export class RateRecords {
  /**
   * The counts waiting per bucket in this process, while one of them runs: they share its reads
   * rather than collide with each other (a burst of parallel writes costs a read, not one each).
   */
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(private readonly conn: DbConnection) {}

  /**
   * Counts one event in `bucket` if it has room in the window; else says how full it is. Every
   * count of a bucket passes the same window.
   */
  take(bucket: string, window: RateWindow): Promise<Taken> {
    return new Promise((resolve, reject) => {
      const waiter = { window, since: Date.now(), resolve, reject };
      const queue = this.waiting.get(bucket);
      if (queue) return void queue.push(waiter);
      const started = [waiter];
      this.waiting.set(bucket, started);
      void this.drain(bucket, started);
    });
  }

  /** Counts one event in `bucket` whatever its limit (a change made without a reserved place). */
  async add(bucket: string): Promise<string> {
    const taken = await this.take(bucket, { limit: Infinity, windowMs: 0 });
    if (!taken.taken) throw new Error(`${bucket} refused a count without a limit`);
    return taken.entry;
  }

  /** Uncounts an entry: what it reserved did not happen. */
  async release(entry: string): Promise<void> {
    // The entry's own process alone updates it, once, so FerretDB's read-then-write races nobody.
    await this.collection().updateOne({ _id: entry }, { $set: { released: true } });
  }

  /** Serves the bucket's waiters, those that arrive meanwhile included, then lets the next count run. */
  private async drain(bucket: string, queue: Waiter[]): Promise<void> {
    let idle = 0;
    while (queue.length) {
      try {
        const served = await this.serve(bucket, queue, idle >= MAX_READS);
        idle = served ? 0 : idle + 1;
      } catch (err) {
        for (const w of queue.splice(0)) w.reject(err);
      }
    }
    this.waiting.delete(bucket);
  }

  /**
   * One read of the bucket, then numbers taken in turn for the waiters while it has room: a
   * number taken by another process since the read counts as taken until the next read. A waiter
   * is refused only on a read made after it came and not walked past, so the count it is told is
   * exact; `final` refuses on any read (a bound on reads whose room others keep releasing).
   * Returns how many waiters it answered.
   */
  private async serve(bucket: string, queue: Waiter[], final: boolean): Promise<number> {
    const readAt = Date.now();
    const { entries, head } = await this.entries(bucket);
    const first = queue[0];
    if (first) await this.prune(entries, head, readAt - 2 * first.window.windowMs, first.window.limit);
    let seq = head;
    let walked = 0;
    let served = 0;
    for (let w = queue[0]; w; w = queue[0]) {
      const live = entries.filter((e) => !e.released && e.at.getTime() > readAt - w.window.windowMs);
      const count = live.length + walked;
      if (count >= w.window.limit) {
        if (!final && (walked > 0 || w.since > readAt)) return served;
        queue.shift();
        const oldest = Math.min(readAt, ...live.map((e) => e.at.getTime()));
        w.resolve({ taken: false, count, oldest: new Date(oldest) });
      } else {
        seq += 1;
        walked += 1;
        const id = entryId(bucket, seq);
        if (!(await insertIfAbsent(this.collection(), { _id: id, at: new Date() }))) continue;
        queue.shift();
        w.resolve({ taken: true, entry: id });
      }
      served += 1;
    }
    return served;
  }

  /** The bucket's entries and its highest number (-1 when it has none). */
  private async entries(bucket: string): Promise<{ entries: Entry[]; head: number }> {
    // A range of _id: MongoDB answers it from the _id index (FerretDB reads the small collection).
    const docs = await this.collection()
      .find({ _id: { $gt: `${bucket}#`, $lt: `${bucket}$` } })
      .toArray();
    const entries = docs
      .filter((d) => d._id.startsWith(`${bucket}#`))
      .map((d) => ({ ...d, seq: Number(d._id.slice(bucket.length + 1)) }));
    return { entries, head: entries.reduce((max, e) => Math.max(max, e.seq), -1) };
  }

  /** Deletes entries older than `before` but the highest, once they are as many as the limit. */
  private async prune(entries: Entry[], head: number, before: number, limit: number): Promise<void> {
    const stale = entries.filter((e) => e.seq !== head && e.at.getTime() < before).map((e) => e._id);
    if (stale.length >= limit) await this.collection().deleteMany({ _id: { $in: stale } });
  }

  private collection() {
    return this.conn.collection<EntryDoc>('config_rate_limits');
  }
}
