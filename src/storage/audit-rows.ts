import mongoose from 'mongoose';
import { insertIfAbsent, isDuplicateKeyError } from './insert-once.js';
import { openLeniently, type ValueCodec } from './codec.js';
import type { ConfigAuditDoc, ConfigVersionDoc } from './config-models.js';
import { GLOBAL, slotId, splitSlot, type Scope } from './slots.js';

export interface AuditFilter {
  key?: string;
  actorId?: string;
  /** Rows of an actor named by id or by tag. */
  actor?: string;
  status?: ConfigAuditDoc['status'];
  action?: ConfigAuditDoc['action'];
  /** Where the attempt came from: a Discord channel id, `api`, `panel`. */
  channelId?: string;
  /** The scope of the attempt; `global` matches rows without one. */
  scope?: string;
  since?: Date;
  until?: Date;
  /**
   * The page after one already shown: rows written at or before `at`, past the first `skip` of
   * those written exactly at `at` (see AuditRows.nextPage).
   */
  after?: AuditPage;
  limit?: number;
}

/** Where the next page of a newest-first audit view starts. */
export interface AuditPage {
  at: Date;
  skip: number;
}

/**
 * The audit rows (config_audit_logs): one per attempt, written once (an id chosen by the attempt,
 * or derived from the version it records), values of sensitive keys sealed at rest.
 */
export class AuditRows {
  constructor(
    private readonly model: mongoose.Model<ConfigAuditDoc>,
    private readonly codec: ValueCodec,
  ) {}

  /** A new row's id, chosen before its first attempt so that a retry cannot write it twice. */
  static newId(): string {
    return new mongoose.Types.ObjectId().toHexString();
  }

  private openAudit(doc: ConfigAuditDoc): ConfigAuditDoc {
    return {
      ...doc,
      oldValue: openLeniently(this.codec, doc.key, doc.oldValue),
      newValue: openLeniently(this.codec, doc.key, doc.newValue),
    };
  }

  /** Audit rows of a time window, oldest first, in batches (for exports). */
  async *batches(since: Date, until: Date, batchSize: number): AsyncGenerator<ConfigAuditDoc[]> {
    const cursor = this.model
      .find({ createdAt: { $gte: since, $lt: until } }, { _id: 0 })
      .sort({ createdAt: 1 })
      .lean<ConfigAuditDoc>()
      .cursor({ batchSize });
    let batch: ConfigAuditDoc[] = [];
    for await (const row of cursor) {
      batch.push(this.openAudit(row as ConfigAuditDoc));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }

  /**
   * Writes the success audit row of a version if its writer stopped before writing it. The row's
   * id is derived from key and version, so a writer and a repairer racing write it once; the
   * writer's own row (with where and why) replaces the repairer's.
   */
  async ensureAudited(v: ConfigVersionDoc, oldValue: unknown): Promise<void> {
    const { key, scope } = splitSlot(v.key);
    const row: ConfigAuditDoc = {
      key,
      ...(scope !== GLOBAL ? { scope } : {}),
      action: v.action,
      status: 'success',
      ...(oldValue !== undefined ? { oldValue } : {}),
      newValue: v.value,
      version: v.version,
      actor: v.actor,
      reason: v.reason
        ? `${v.reason} (recorded on recovery)`
        : 'recorded on recovery after an interrupted write',
      createdAt: new Date(),
    };
    // Absent only: the writer's own row, if it got there first, is the better record.
    await insertIfAbsent(this.model.collection, {
      _id: committedId(v.key, v.version),
      ...this.seal(row),
    });
  }

  /** The success row of a committed version, written by its writer (see ensureAudited). */
  async upsertCommitted(doc: ConfigAuditDoc & { version: number }): Promise<void> {
    const filter = {
      _id: committedId(slotId(doc.key, (doc.scope ?? GLOBAL) as Scope), doc.version) as never,
    };
    try {
      await this.model.collection.replaceOne(filter, this.seal(doc), { upsert: true });
    } catch (err) {
      // A repairer inserted the row between our upsert's lookup and its insert: replace it now.
      if (!isDuplicateKeyError(err)) throw err;
      await this.model.collection.replaceOne(filter, this.seal(doc));
    }
  }

  /** The earliest audit row's time (where the first export starts), if there is any row. */
  async firstAt(): Promise<Date | undefined> {
    const doc = await this.model
      .findOne({}, { createdAt: 1 })
      .sort({ createdAt: 1 })
      .lean<{ createdAt: Date }>()
      .exec();
    return doc?.createdAt;
  }

  /** An audit row as stored: values of sensitive keys encrypted. */
  seal(doc: ConfigAuditDoc): ConfigAuditDoc {
    const out = { ...doc };
    if (doc.oldValue !== undefined) out.oldValue = this.codec.encode(doc.key, doc.oldValue);
    if (doc.newValue !== undefined) out.newValue = this.codec.encode(doc.key, doc.newValue);
    return out;
  }

  /** Writes an audit row under `id` (chosen by the caller, so a retry of it cannot write it twice). */
  async insert(doc: ConfigAuditDoc, id: string): Promise<void> {
    await this.model.collection.insertOne({
      _id: new mongoose.Types.ObjectId(id) as never,
      ...this.seal(doc),
    });
  }

  /**
   * Writes a row under an id derived from what it records, once: false when a row with that id
   * exists already (an event that happened once however many runs reached it).
   */
  async insertOnce(id: string, doc: ConfigAuditDoc): Promise<boolean> {
    return insertIfAbsent(this.model.collection, { _id: id, ...this.seal(doc) });
  }

  /**
   * Writes a row sealed earlier (a row queued during an outage), once: a row whose first attempt
   * reached the database after all (a paused server that resumed) is not written again.
   */
  async insertSealed(doc: ConfigAuditDoc, id: string | undefined): Promise<void> {
    if (!id || !mongoose.isValidObjectId(id)) {
      await this.model.collection.insertOne({ ...doc });
      return;
    }
    await insertIfAbsent(this.model.collection, { _id: new mongoose.Types.ObjectId(id), ...doc });
  }

  /** Success rows of seeded versions (ids derived from key and version, like auditCommitted). */
  async insertSeeded(docs: (ConfigAuditDoc & { version: number })[]): Promise<void> {
    await insertManyTolerant(
      this.model.collection,
      docs.map((d) => ({ _id: committedId(d.key, d.version), ...this.seal(d) })),
    );
  }

  /**
   * Rows matching a filter, newest first. Rows written in the same millisecond are ordered by id,
   * so a page that starts after them (`after`) neither repeats nor skips one.
   */
  async view(f: AuditFilter): Promise<ConfigAuditDoc[]> {
    const query: Record<string, unknown> = {};
    if (f.key) query.key = f.key;
    if (f.actorId) query['actor.id'] = f.actorId;
    if (f.actor) query.$or = [{ 'actor.id': f.actor }, { 'actor.tag': f.actor }];
    if (f.status) query.status = f.status;
    if (f.action) query.action = f.action;
    if (f.channelId) query.channelId = f.channelId;
    if (f.scope) query.scope = f.scope === GLOBAL ? { $in: [null, GLOBAL] } : f.scope;
    // A page after `at` keeps the rows written at `at` itself, past the first `skip` of them.
    const paged = f.after !== undefined && (!f.until || f.after.at < f.until);
    const range = {
      ...(f.since && { $gte: f.since }),
      ...(paged && f.after ? { $lte: f.after.at } : f.until ? { $lt: f.until } : {}),
    };
    if (Object.keys(range).length) query.createdAt = range;
    const skip = paged && f.after ? f.after.skip : 0;
    const rows = await this.model
      .find(query, { _id: 0 })
      .sort({ createdAt: -1, _id: -1 })
      .skip(skip)
      .limit(Math.min(Math.max(f.limit ?? 50, 1), 1000))
      .lean<ConfigAuditDoc[]>()
      .exec();
    return rows.map((r) => this.openAudit(r));
  }

  /** Where the page after `rows` (a page of view) starts; `after` is where that page started. */
  static nextPage(rows: readonly ConfigAuditDoc[], after?: AuditPage): AuditPage | undefined {
    const last = rows.at(-1);
    if (!last) return undefined;
    const at = last.createdAt.getTime();
    const same = rows.filter((r) => r.createdAt.getTime() === at).length;
    return { at: last.createdAt, skip: same + (after && after.at.getTime() === at ? after.skip : 0) };
  }
}

/** The id of the one success audit row of a committed version. */
const committedId = (key: string, version: number) => `${key}@v${version}`;

/** insertMany that ignores duplicates (another process got there first); returns the indexes it skipped. */
export async function insertManyTolerant(
  collection: mongoose.Collection,
  docs: object[],
): Promise<Set<number>> {
  if (docs.length === 0) return new Set();
  try {
    await collection.insertMany(
      docs.map((d) => ({ ...d })),
      { ordered: false },
    );
    return new Set();
  } catch (err) {
    const writeErrors = (
      err as { writeErrors?: { code: number; index: number }[] | { code: number; index: number } }
    ).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    if (list.length === 0 || list.some((e) => e.code !== 11000)) throw err;
    return new Set(list.map((e) => e.index));
  }
}
