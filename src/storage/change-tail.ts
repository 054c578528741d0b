import type { Connection } from 'mongoose';
import { isSealed, openLeniently, type ValueCodec } from './codec.js';
import type { ConfigVersionDoc } from './config-models.js';
import { isDuplicateKeyError } from './insert-once.js';

/** How many of the newest change-log entries the tail keeps (a ring: entry N sits in slot N mod SIZE). */
export const TAIL_SIZE = 16;

/** One of the newest entries of the change log, with the version it logged when it carries it. */
export interface TailEntry {
  seq: number;
  /** The slot, as in the change log. */
  slot: string;
  version: number;
  /**
   * The version itself, value opened. Absent when large, sensitive (a sealed value would outlive
   * a key rotation here), or unknown to the publisher (a repair of an older version).
   */
  doc?: ConfigVersionDoc;
}

/** A carried version larger than this (as JSON) is left for followers to read from the versions. */
const MAX_CARRIED_CHARS = 16_384;

interface TailDoc {
  _id: string;
  seq: number;
  slot: string;
  version: number;
  /** The version document without its key and number (theirs are the entry's). */
  carried?: Omit<ConfigVersionDoc, '_id' | 'key' | 'version'>;
}

/**
 * The newest entries of the change log, each with the version it logged, in a collection of
 * TAIL_SIZE documents that every process polls (config_change_tail). Why not poll the log
 * itself: FerretDB 1.x answers any query by reading the whole collection, so a read of the log
 * (10,000 entries kept for streams to resume) costs it ~400 ms against ~2 ms here, and a
 * follower that finds the version in the entry applies it without a second read. A writer
 * publishes after its version is committed; a follower applies entries in order from
 * its position and goes to the log itself when the one it needs is not here (see ChangeFeed).
 */
export class ChangeTail {
  constructor(
    private readonly conn: Connection,
    private readonly codec: ValueCodec,
  ) {}

  /**
   * Publishes entries, each in its own document (concurrent writers never touch the same one);
   * of many (a first start seeding every key), only the newest TAIL_SIZE.
   */
  async publish(entries: readonly TailEntry[]): Promise<void> {
    const newest = [...entries].sort((a, b) => a.seq - b.seq).slice(-TAIL_SIZE);
    await Promise.all(newest.map((e) => this.publishOne(e)));
  }

  /** Entries after `position`, oldest first (at most TAIL_SIZE). */
  async after(position: number): Promise<TailEntry[]> {
    const docs = await this.collection()
      .find({ seq: { $gt: position } })
      .toArray();
    return docs
      .sort((a, b) => a.seq - b.seq)
      .map(({ seq, slot, version, carried }) => ({
        seq,
        slot,
        version,
        ...(carried
          ? { doc: { ...carried, key: slot, version, value: openLeniently(this.codec, slot, carried.value) } }
          : {}),
      }));
  }

  private async publishOne(entry: TailEntry): Promise<void> {
    const carried = entry.doc && this.carry(entry.doc);
    const doc = {
      seq: entry.seq,
      slot: entry.slot,
      version: entry.version,
      ...(carried ? { carried } : {}),
    };
    try {
      // Never over a newer entry: a writer that stalled past TAIL_SIZE later commits leaves its slot.
      await this.collection().replaceOne({ _id: `t${entry.seq % TAIL_SIZE}`, seq: { $lt: entry.seq } }, doc, {
        upsert: true,
      });
    } catch (err) {
      // The upsert met the slot holding a newer entry (or this one, published by a repairer).
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  /** What the tail keeps of a version, or undefined when it leaves it to the versions. */
  private carry(doc: ConfigVersionDoc): TailDoc['carried'] {
    const { _id, key, version, ...rest } = doc;
    void _id;
    void version;
    const value = rest.action === 'unset' ? null : this.codec.encode(key, rest.value);
    if (isSealed(value)) return undefined;
    const carried = { ...rest, value };
    return JSON.stringify(carried).length <= MAX_CARRIED_CHARS ? carried : undefined;
  }

  private collection() {
    return this.conn.collection<TailDoc>('config_change_tail');
  }
}
