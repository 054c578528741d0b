import type { Model } from 'mongoose';
import { insertIfAbsent, isDuplicateKeyError } from './insert-once.js';
import { isUnavailableError } from './connection.js';
import type { ConfigChangeDoc } from './config-models.js';
import { randomUUID } from 'node:crypto';
import { ChangeTail, type TailEntry } from './change-tail.js';
import { plainCodec, type ValueCodec } from './codec.js';

interface Pending {
  key: string;
  version: number;
  resolve(position: number): void;
  reject(err: unknown): void;
}

/** Entries kept for streams to resume from; an older position gets a resync instead. */
export const DEFAULT_RETAINED_CHANGES = 10_000;

/**
 * The order of every committed version across all slots, numbered without gaps, so that a live
 * stream can say "everything after 42" and mean it after a restart, on any process.
 *
 * Why a log and not a counter: a number taken from a counter before a write can be overtaken by
 * a later number whose write lands first, and a reader that saw the later one would skip the
 * earlier. Here an entry is the number itself (its _id), and a writer only tries N+1 once it has
 * seen N exist (the head marker only moves, by $max, to positions that were inserted, and a
 * duplicate means "taken, try the next"). The head may lag the log (a writer that stopped before
 * moving it): appenders then probe forward, and readers read the log itself. So when a reader sees entry N, every entry below it exists already.
 *
 * Versions of one slot are logged in version order: the writer logs its version before the
 * current value moves (repair logs a version it completes before moving it), and the next
 * version of that slot can only be written after the current value has moved.
 */
export class ChangeLog {
  /** The highest position this process appended. */
  appended = 0;
  /** The newest entries, with their versions, which processes poll (see ChangeTail). */
  readonly tail: ChangeTail;
  private readonly queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly model: Model<ConfigChangeDoc>,
    codec: ValueCodec = plainCodec,
    private readonly retained = DEFAULT_RETAINED_CHANGES,
  ) {
    this.tail = new ChangeTail(model.db, codec);
  }

  /**
   * Logs a committed version of a slot, once: resolves with its position, whether this call or an
   * earlier one (its writer, or a repairer) logged it. Appends of this process's concurrent
   * writers are grouped into one insert of consecutive positions (they would otherwise race each
   * other for the same one).
   */
  append(key: string, version: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, version, resolve, reject });
      void this.flush();
    });
  }

  /** Logs many versions at once (seeding a registry's keys); resolves with their positions. */
  appendMany(entries: readonly { key: string; version: number }[]): Promise<number[]> {
    return Promise.all(entries.map((e) => this.append(e.key, e.version)));
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length) {
        // Read first: appends queued meanwhile join this group.
        let head: number;
        try {
          head = Math.max(await this.head(), this.appended);
        } catch (err) {
          for (const p of this.queue.splice(0)) p.reject(err);
          return;
        }
        await this.write(this.queue.splice(0, 500), head);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async write(group: Pending[], head: number): Promise<void> {
    let done = 0;
    try {
      if (group.length > 1) {
        const at = new Date();
        const docs = group.map((p, i) => ({ _id: head + 1 + i, key: p.key, version: p.version, at }));
        try {
          // Ordered: it stops at the first taken position, so what it inserted has no gaps.
          await this.model.collection.insertMany(docs as never[], { ordered: true });
          done = group.length;
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          done = (err as { insertedCount?: number }).insertedCount ?? 0;
        }
        for (let i = 0; i < done; i++) group[i]?.resolve(head + 1 + i);
        this.advanced(head + done);
      }
      for (; done < group.length; done++) {
        const p = group[done] as Pending;
        p.resolve(await this.appendOne(p.key, p.version, Math.max(head, this.appended) + 1));
      }
    } catch (err) {
      // An unreachable database fails the appends queued meanwhile too: each would otherwise wait
      // out its own timeout in turn (a writer queued behind a write cut by an outage answered
      // after two server-selection timeouts instead of one).
      const failed = isUnavailableError(err)
        ? [...group.slice(done), ...this.queue.splice(0)]
        : group.slice(done);
      for (const p of failed) p.reject(err);
    }
  }

  /** One entry at `candidate` or the first free position after it (see the class comment). */
  private async appendOne(key: string, version: number, candidate: number): Promise<number> {
    for (;;) {
      if (await insertIfAbsent(this.model.collection, { _id: candidate, key, version, at: new Date() })) {
        this.advanced(candidate);
        return candidate;
      }
      // Taken: by another writer's entry (the usual race: look at it by _id and try the next),
      // or, when nothing is there, the version was logged already elsewhere (a repairer).
      const there = await this.model.findById(candidate).lean<ConfigChangeDoc>().exec();
      if (there?.key === key && there.version === version) return candidate;
      if (!there) {
        const logged = await this.positionOf(key, version);
        if (logged !== undefined) return logged;
      }
      candidate++;
    }
  }

  /** The head moves when the writer publishes the entry (ChangeLog.publish). */
  private advanced(position: number): void {
    const before = this.appended;
    this.appended = Math.max(this.appended, position);
    // Now and then, drop what no stream can still need.
    if (Math.floor(this.appended / 1000) > Math.floor(before / 1000))
      void this.trim(this.appended).catch(() => undefined);
  }

  /**
   * Publishes logged entries to the tail, then moves the marker every process polls (one small
   * document read by _id: the cheapest read there is on FerretDB, where even the tail's sixteen
   * documents cost three times as much). Its `marker` changes on every publish, so a follower
   * that saw it change reads the tail and finds every entry published before it moved, whatever
   * order concurrent writers' updates landed in; `seq` is what processes of earlier releases read.
   */
  async publish(entries: readonly TailEntry[]): Promise<void> {
    await this.tail.publish(entries);
    const newest = Math.max(0, ...entries.map((e) => e.seq));
    await this.meta().updateOne(
      { _id: 'changes' },
      // Only what is published: a follower that sees a position named here but not in the tail
      // reads the log for it (see ChangeFeed), which an entry still being written would cost.
      { $set: { marker: randomUUID(), at: new Date() }, $max: { seq: newest } },
      { upsert: true },
    );
  }

  /**
   * The marker publish() moves (undefined before the first publish), and the head it names (which
   * may lag, never lead: processes of an earlier release move it without publishing to the tail).
   */
  async marker(): Promise<{ marker: string | undefined; seq: number }> {
    const doc = await this.meta().findOne({ _id: 'changes' });
    return { marker: doc?.marker, seq: typeof doc?.seq === 'number' ? doc.seq : 0 };
  }

  /** Logs a version unless it is logged already (data written before the log existed). */
  async ensure(key: string, version: number): Promise<number> {
    return (await this.positionOf(key, version)) ?? this.append(key, version);
  }

  /** Where a version was logged, if it was. */
  async positionOf(key: string, version: number): Promise<number | undefined> {
    const doc = await this.model.findOne({ key, version }, { _id: 1 }).lean<{ _id: number }>().exec();
    return doc?._id;
  }

  /**
   * The newest published position, as the marker says (one read by _id). It may lag the log by an
   * entry whose writer stopped before publishing it; `after()` reads the log itself.
   */
  async head(): Promise<number> {
    return (await this.marker()).seq;
  }

  /** Entries after `position`, oldest first, at most `limit`. */
  async after(position: number, limit = 500): Promise<ConfigChangeDoc[]> {
    return this.model
      .find({ _id: { $gt: position } })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<ConfigChangeDoc[]>()
      .exec();
  }

  /**
   * The first entry of each of `slots` in the positions (after, through], if any: the version of
   * a slot at `after` is then one less (versions of a slot are logged in order, without gaps).
   */
  async firstOf(slots: readonly string[], after: number, through: number): Promise<Map<string, number>> {
    const first = new Map<string, number>();
    if (!slots.length || through <= after) return first;
    const entries = await this.model
      .find({ _id: { $gt: after, $lte: through }, key: { $in: slots } }, { key: 1, version: 1 })
      .sort({ _id: 1 })
      .lean<{ key: string; version: number }[]>()
      .exec();
    for (const e of entries) if (!first.has(e.key)) first.set(e.key, e.version);
    return first;
  }

  /** The oldest position still kept (0 when the log is empty). */
  async oldest(): Promise<number> {
    const doc = await this.model.findOne({}, { _id: 1 }).sort({ _id: 1 }).lean<{ _id: number }>().exec();
    return doc?._id ?? 0;
  }

  /** Drops entries more than `retained` behind `head`; versions themselves are never dropped. */
  async trim(head: number): Promise<void> {
    await this.model.deleteMany({ _id: { $lte: head - this.retained } }).exec();
  }

  private meta() {
    return this.model.db.collection<{ _id: string; seq?: number; marker?: string; at?: Date }>('config_meta');
  }
}
