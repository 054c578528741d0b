import type { Model } from 'mongoose';
import { insertIfAbsent } from '../db/connection.js';
import type { ConfigChangeDoc } from './models.js';

/** Entries kept for streams to resume from; an older position gets a resync instead. */
export const DEFAULT_RETAINED_CHANGES = 10_000;

/**
 * The order of every committed version across all slots, numbered without gaps, so that a live
 * stream can say "everything after 42" and mean it after a restart, on any process.
 *
 * Why a log and not a counter: a number taken from a counter before a write can be overtaken by
 * a later number whose write lands first, and a reader that saw the later one would skip the
 * earlier. Here an entry is the number itself (its _id), and a writer only tries N+1 once it has
 * seen N exist (the head position is moved with $max after each insert, and a duplicate means
 * "taken, try the next"). So when a reader sees entry N, every entry below it exists already.
 *
 * Versions of one slot are logged in version order: the writer logs its version before the
 * current value moves (repair logs a version it completes before moving it), and the next
 * version of that slot can only be written after the current value has moved.
 */
export class ChangeLog {
  constructor(
    private readonly model: Model<ConfigChangeDoc>,
    private readonly retained = DEFAULT_RETAINED_CHANGES,
  ) {}

  /**
   * Logs a committed version of a slot, once: returns its position, whether this call or an
   * earlier one (its writer, or a repairer) logged it.
   */
  async append(key: string, version: number): Promise<number> {
    let candidate = (await this.head()) + 1;
    for (;;) {
      if (await insertIfAbsent(this.model.collection, { _id: candidate, key, version, at: new Date() })) {
        await this.meta().updateOne({ _id: 'changes' }, { $max: { seq: candidate } }, { upsert: true });
        if (candidate % 1000 === 0) await this.trim(candidate);
        return candidate;
      }
      const logged = await this.positionOf(key, version);
      if (logged !== undefined) return logged;
      candidate++;
    }
  }

  /** Where a version was logged, if it was. */
  async positionOf(key: string, version: number): Promise<number | undefined> {
    const doc = await this.model.findOne({ key, version }, { _id: 1 }).lean<{ _id: number }>().exec();
    return doc?._id;
  }

  /**
   * The newest position, as the head marker says (one read by _id). It may lag the log by an
   * entry whose writer stopped before moving it; `after()` reads the log itself.
   */
  async head(): Promise<number> {
    const doc = await this.meta().findOne({ _id: 'changes' });
    return typeof doc?.seq === 'number' ? doc.seq : 0;
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
    return this.model.db.collection<{ _id: string; seq?: number }>('config_meta');
  }
}
