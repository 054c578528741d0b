import type { Actor } from './config-models.js';
import type { DbConnection } from './connection.js';
import { insertIfAbsent } from './insert-once.js';
import type { Scope } from './slots.js';

/** One slot as a snapshot recorded it. */
export interface SnapshotValue {
  key: string;
  scope: Scope;
  /** The slot's version when the snapshot was taken. */
  version: number;
  /** The value as the configuration store keeps it: sealed (encrypted) when the key is sensitive. */
  value: unknown;
}

/** A named snapshot, stored once and never changed (collection `config_snapshots`, _id = name). */
export interface SnapshotDoc {
  _id: string;
  description?: string;
  createdBy: Actor;
  createdAt: Date;
  values: SnapshotValue[];
}

/** A snapshot without its values (lists). */
export type SnapshotSummary = Omit<SnapshotDoc, 'values'> & { count: number };

/**
 * The storage of named snapshots, and its one rule: a name is written once (the unique _id), so
 * two admins creating the same name at once get one snapshot and one refusal.
 */
export class SnapshotStore {
  constructor(private readonly conn: DbConnection) {}

  private get c() {
    return this.conn.collection<SnapshotDoc>('config_snapshots');
  }

  /** Writes a snapshot; false when one with that name exists already. */
  insert(doc: SnapshotDoc): Promise<boolean> {
    return insertIfAbsent(this.c, doc);
  }

  async get(name: string): Promise<SnapshotDoc | null> {
    return this.c.findOne({ _id: name });
  }

  /** Snapshots newest first, without their values (each with how many it holds). */
  async list(limit = 100): Promise<SnapshotSummary[]> {
    // Counted here rather than with $size: FerretDB's aggregation lacks some operators.
    const docs = await this.c.find({}).sort({ createdAt: -1 }).limit(limit).toArray();
    return docs.map(({ values, ...rest }) => ({ ...rest, count: values.length }));
  }

  /**
   * Re-encrypts the sealed values of every snapshot with the current key (key rotation): the
   * values stay the same, only their envelope changes. Returns how many values it rewrote.
   */
  async reseal(reseal: (slot: string, stored: unknown) => unknown): Promise<number> {
    let count = 0;
    for (const doc of await this.c.find({}).toArray()) {
      let changed = false;
      const values = doc.values.map((v) => {
        const next = reseal(v.key, v.value);
        if (next === undefined) return v;
        changed = true;
        count++;
        return { ...v, value: next };
      });
      if (changed) await this.c.updateOne({ _id: doc._id }, { $set: { values } });
    }
    return count;
  }

  /** Names starting with `prefix` (autocomplete), newest first. */
  async names(prefix: string, limit = 25): Promise<string[]> {
    const escaped = prefix.replace(/[^a-z0-9-]/g, '');
    const docs = await this.c
      .find({ _id: { $regex: `^${escaped}` } }, { projection: { _id: 1 } })
      .sort({ createdAt: -1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => d._id);
  }
}
