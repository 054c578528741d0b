import { AuditCheckpoints } from './audit-checkpoints.js';
import { AuditRows, insertManyTolerant } from './audit-rows.js';
import { insertIfAbsent } from './insert-once.js';
import { ChangeLog } from './change-log.js';
import { openLeniently, plainCodec, type ValueCodec } from './codec.js';
import type { ConfigModels, ConfigVersionDoc, SystemConfigDoc } from './config-models.js';

/** A version at its position in the change log. */
export interface Logged {
  seq: number;
  slot: string;
  version: number;
}

/** A version to publish at its position (see ConfigStore.publish); `doc` carried when known. */
export interface Publishable extends Logged {
  doc?: ConfigVersionDoc;
}

/** A stored value found by key rotation, and where it lives. */
export interface SealedDocument {
  collection: 'system_configs' | 'config_versions';
  id: unknown;
  key: string;
  field: 'value';
  stored: unknown;
}

/**
 * The database side of configuration: every query lives here. No multi-document transactions
 * (FerretDB and standalone mongod have none): the unique (key, version) index decides which
 * writer wins a version, and the current document only moves forward by compare-and-set.
 */
export class ConfigStore {
  /** The order of committed versions across slots (live streams resume from it). */
  readonly changes: ChangeLog;
  /** The audit rows (config_audit_logs). */
  readonly audits: AuditRows;
  /** The signed checkpoints of the audit rows' chain (config_audit_checkpoints). */
  readonly checkpoints: AuditCheckpoints;

  constructor(
    private readonly m: ConfigModels,
    /** Encrypts sensitive values on the way in and decrypts them on the way out. */
    private readonly codec: ValueCodec = plainCodec,
    /** Whether a key's values are sensitive: kept out of audit rows (see AuditRows). */
    sensitive: (key: string) => boolean = () => false,
  ) {
    this.changes = new ChangeLog(m.ConfigChange, codec);
    this.audits = new AuditRows(m.ConfigAudit, codec, sensitive);
    this.checkpoints = AuditCheckpoints.of(m.ConfigAudit.db);
  }

  // Leniently: a value this process cannot decrypt reads as an Undecryptable (served masked),
  // so one secret written with a key it lacks never stops it reading everything else.
  private open<T extends { key: string; value?: unknown }>(doc: T | null): T | null {
    return doc && { ...doc, value: openLeniently(this.codec, doc.key, doc.value) };
  }

  async current(key: string): Promise<SystemConfigDoc | null> {
    return this.open(
      await this.m.SystemConfig.findOne({ _id: key }, { _id: 0 }).lean<SystemConfigDoc>().exec(),
    );
  }

  async allCurrent(): Promise<SystemConfigDoc[]> {
    const docs = await this.m.SystemConfig.find({}, { _id: 0 }).lean<SystemConfigDoc[]>().exec();
    return docs.map((d) => this.open(d) as SystemConfigDoc);
  }

  /** Current documents whose slot starts with `prefix` (a range of the _id index on MongoDB). */
  async currentWithPrefix(prefix: string): Promise<SystemConfigDoc[]> {
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const docs = await this.m.SystemConfig.find({ _id: { $regex: `^${escaped}` } }, { _id: 0 })
      .lean<SystemConfigDoc[]>()
      .exec();
    return docs.map((d) => this.open(d) as SystemConfigDoc);
  }

  async version(key: string, version: number): Promise<ConfigVersionDoc | null> {
    return this.open(
      await this.m.ConfigVersion.findOne({ _id: versionId(key, version) }, { _id: 0 })
        .lean<ConfigVersionDoc>()
        .exec(),
    );
  }

  /** Given versions of given slots, by _id, in one query. */
  async versionsOf(wanted: readonly { slot: string; version: number }[]): Promise<ConfigVersionDoc[]> {
    const ids = wanted.map((w) => versionId(w.slot, w.version));
    const docs = await this.m.ConfigVersion.find({ _id: { $in: ids } }, { _id: 0 })
      .lean<ConfigVersionDoc[]>()
      .exec();
    return docs.map((d) => this.open(d) as ConfigVersionDoc);
  }

  /** The newest version of a key: versions are contiguous, so probe forward from the current one. */
  async latest(key: string): Promise<ConfigVersionDoc | null> {
    const cur = await this.current(key);
    let newest = cur ? await this.version(key, cur.version) : null;
    for (const v of await this.versionsAfter(key, cur?.version ?? 0)) newest = v;
    return newest;
  }

  /**
   * Versions of a key after `version`, oldest first (catching up on changes made elsewhere).
   * Versions are contiguous, so this probes v+1, v+2... by _id until one is missing.
   */
  async versionsAfter(key: string, version: number): Promise<ConfigVersionDoc[]> {
    const out: ConfigVersionDoc[] = [];
    for (let v = version + 1; ; v++) {
      const doc = await this.version(key, v);
      if (!doc) return out;
      out.push(doc);
    }
  }

  /**
   * Publishes committed versions at their positions in the change log to its tail, which other
   * processes poll (see ChangeTail): with the version itself, so they need not read it back.
   */
  async publish(entries: readonly Publishable[]): Promise<void> {
    await this.changes.publish(entries);
  }

  /**
   * Records that a writer is about to insert `version` of `key` (see SystemConfigDoc.pending), so
   * that a crash before the current document moves is found from the current documents alone.
   * By _id: the one filter FerretDB hands to SQLite.
   */
  async markPending(key: string, version: number): Promise<void> {
    await this.m.SystemConfig.collection.updateOne({ _id: key as never }, { $max: { pending: version } });
  }

  /** Writes a version; false when that (key, version) already exists, i.e. another writer won it. */
  async insertVersion(doc: ConfigVersionDoc): Promise<boolean> {
    return insertIfAbsent(this.m.ConfigVersion.collection, {
      ...doc,
      _id: versionId(doc.key, doc.version),
      value: this.codec.encode(doc.key, doc.value),
    });
  }

  /**
   * Moves the current document to `next`, only if it still holds `fromVersion` (or, with null,
   * only if it does not exist yet). False when someone else moved it first.
   */
  async advance(key: string, fromVersion: number | null, next: ConfigVersionDoc): Promise<boolean> {
    const fields = {
      key,
      value: next.action === 'unset' ? null : this.codec.encode(key, next.value),
      version: next.version,
      updatedBy: next.actor,
      updatedAt: next.createdAt,
      unset: next.action === 'unset',
      // Every caller logs the version before moving the current document to it.
      logged: true,
    };
    if (fromVersion === null) return insertIfAbsent(this.m.SystemConfig.collection, { _id: key, ...fields });
    const res = await this.m.SystemConfig.collection.updateOne(
      { key, version: fromVersion },
      { $set: fields },
    );
    return res.matchedCount === 1;
  }

  /**
   * Completes a write interrupted between its two steps: if the newest version is ahead of the
   * current document, the current document is moved to it. Returns what was applied, if anything.
   */
  async repair(
    key: string,
  ): Promise<{ from: SystemConfigDoc | null; to: ConfigVersionDoc; logged: Logged[] } | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const [cur, latest] = await Promise.all([this.current(key), this.latest(key)]);
      if (!latest || (cur && cur.version >= latest.version)) return undefined;
      await this.audits.ensureAudited(latest, cur?.version === latest.version - 1 ? cur.value : undefined);
      // Logged before the current value moves, like a writer does (see ChangeLog).
      const logged: Logged[] = [];
      for (let v = (cur?.version ?? 0) + 1; v <= latest.version; v++)
        logged.push({ seq: await this.changes.append(key, v), slot: key, version: v });
      if (await this.advance(key, cur?.version ?? null, latest)) return { from: cur, to: latest, logged };
    }
    return undefined;
  }

  /**
   * Keys whose current document is behind their versions, however they got there. Versions are
   * contiguous from 1, so the count of a key's versions is its newest version number: one $group
   * with $sum, which both MongoDB and FerretDB run (FerretDB 1.x has no $max accumulator). It reads
   * every version, so it is the periodic safety net, never on the start-up path (see `pending`).
   * `current` is a read of the current documents the caller makes anyway.
   */
  async lagging(current: readonly SystemConfigDoc[]): Promise<string[]> {
    const at = new Map(current.map((d) => [d.key, d.version]));
    const counts = await this.m.ConfigVersion.aggregate<{ _id: string; n: number }>([
      { $group: { _id: '$key', n: { $sum: 1 } } },
    ]).exec();
    return counts.filter((c) => (at.get(c._id) ?? 0) < c.n).map((c) => c._id);
  }

  /** Seeds version 1 of many keys at once; returns the keys whose version 1 this call wrote. */
  async seedVersions(docs: ConfigVersionDoc[]): Promise<string[]> {
    const failed = await insertManyTolerant(
      this.m.ConfigVersion.collection,
      docs.map((d) => ({ _id: versionId(d.key, d.version), ...d, value: this.codec.encode(d.key, d.value) })),
    );
    return docs.filter((_, i) => !failed.has(i)).map((d) => d.key);
  }

  /**
   * The current documents of freshly seeded keys, returned for the cache. One that exists already
   * was written by a repair racing this start, from the same version 1.
   */
  async seedCurrent(docs: ConfigVersionDoc[]): Promise<SystemConfigDoc[]> {
    const current = docs.map((d) => ({
      key: d.key,
      value: d.value,
      version: d.version,
      updatedBy: d.actor,
      updatedAt: d.createdAt,
      logged: true,
    }));
    await insertManyTolerant(
      this.m.SystemConfig.collection,
      current.map((c) => ({ _id: c.key, ...c, value: this.codec.encode(c.key, c.value) })),
    );
    return current;
  }

  /** The version of `key` that was current at `at`: the newest one created by then, if any. */
  async versionAt(key: string, at: Date): Promise<ConfigVersionDoc | null> {
    const doc = await this.m.ConfigVersion.findOne({ key, createdAt: { $lte: at } }, { _id: 0 })
      .sort({ createdAt: -1, version: -1 })
      .lean<ConfigVersionDoc>()
      .exec();
    return this.open(doc);
  }

  /**
   * A page of versions, newest first: below `before`, or just above `after` (the page after a
   * newer one), or from the newest.
   */
  async history(
    key: string,
    limit: number,
    page: { before?: number; after?: number } = {},
  ): Promise<ConfigVersionDoc[]> {
    const { before, after } = page;
    const range = before !== undefined ? { $lt: before } : after !== undefined ? { $gt: after } : undefined;
    const docs = await this.m.ConfigVersion.find({ key, ...(range ? { version: range } : {}) }, { _id: 0 })
      .sort({ version: after !== undefined && before === undefined ? 1 : -1 })
      .limit(limit)
      .lean<ConfigVersionDoc[]>()
      .exec();
    const rows = docs.map((d) => this.open(d) as ConfigVersionDoc);
    return after !== undefined && before === undefined ? rows.reverse() : rows;
  }

  /**
   * Every stored document holding a value of `key` that `reseal` wants rewritten (key rotation).
   * Audit rows are not among them: they hold no sensitive value (see AuditRows), and a chained row
   * is never rewritten.
   */
  async *sealedDocuments(): AsyncGenerator<SealedDocument> {
    const collections = [
      { name: 'system_configs', c: this.m.SystemConfig.collection, fields: ['value'] },
      { name: 'config_versions', c: this.m.ConfigVersion.collection, fields: ['value'] },
    ] as const;
    for (const { name, c, fields } of collections) {
      for await (const doc of c.find(
        {},
        { projection: { _id: 1, key: 1, ...Object.fromEntries(fields.map((f) => [f, 1])) } },
      )) {
        for (const field of fields) {
          const stored = (doc as Record<string, unknown>)[field];
          if (stored !== undefined && stored !== null)
            yield { collection: name, id: doc._id as unknown, key: String(doc.key), field, stored };
        }
      }
    }
  }

  /**
   * Replaces one stored value, only if it is still the one read (a concurrent writer's newer value
   * is never overwritten): the rewrite of key rotation. True when it replaced it.
   */
  async replaceSealed(doc: SealedDocument, next: unknown): Promise<boolean> {
    const c = this.m.SystemConfig.db.collection(doc.collection);
    const res = await c.updateOne(
      { _id: doc.id as never, [doc.field]: doc.stored },
      { $set: { [doc.field]: next } },
    );
    return res.modifiedCount === 1;
  }

  /** Sets the current value of a key still at `version` (a repair of the value alone). */
  async setCurrentValue(key: string, version: number, value: unknown): Promise<boolean> {
    const res = await this.m.SystemConfig.collection.updateOne(
      { _id: key as never, version },
      { $set: { value: this.codec.encode(key, value) } },
    );
    return res.modifiedCount === 1;
  }
}

/** The _id of version `version` of `key`: the same in every process, so lookups need no other index. */
export const versionId = (key: string, version: number): string => `${key}@${version}`;
