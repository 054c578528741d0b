import mongoose from 'mongoose';
import { logger } from '../base/logger.js';
import { MASK } from '../base/text.js';
import { AuditChain } from './audit-chain.js';
import { isRedacted, redacted } from './audit-hash.js';
import { openLeniently, type ValueCodec } from './codec.js';
import type { ConfigAuditDoc, ConfigVersionDoc } from './config-models.js';
import { serverClock, type ServerClock } from './server-clock.js';
import { GLOBAL, keyOfSlot, slotId, splitSlot, type Scope } from './slots.js';

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
 * or derived from the version it records), each appended to the hash chain (audit-chain.ts).
 *
 * Values of sensitive keys are not stored in audit rows at all (MASK instead; the versions keep
 * them, encrypted): every view masked them anyway, and a chained row cannot be re-encrypted by a
 * key rotation without breaking its hash.
 */
export class AuditRows {
  /** The chain every row is appended to. */
  readonly chain: AuditChain;
  private readonly clock: ServerClock;

  constructor(
    private readonly model: mongoose.Model<ConfigAuditDoc>,
    private readonly codec: ValueCodec,
    /** Whether a key's values are sensitive (kept out of audit rows). */
    private readonly sensitive: (key: string) => boolean = () => false,
  ) {
    this.chain = new AuditChain(model.collection);
    this.clock = serverClock(model.db);
  }

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
    await this.chain.append({ _id: committedId(v.key, v.version), ...(await this.stored(row)) });
  }

  /**
   * The success row of a committed version, written by its writer (see ensureAudited). A chained
   * row is never rewritten, so when a repairer recorded the version first (the writer stalled
   * between its version and this row), the repairer's row stands and the writer's details are
   * logged instead.
   */
  async upsertCommitted(doc: ConfigAuditDoc & { version: number }): Promise<void> {
    const id = committedId(slotId(doc.key, (doc.scope ?? GLOBAL) as Scope), doc.version);
    if (await this.chain.append({ _id: id, ...(await this.stored(doc)) })) return;
    logger.warn(
      `${id} was recorded by a repair before its writer's row: ${doc.action} by ${doc.actor.tag} (${doc.actor.id})${doc.channelId ? ` in ${doc.channelId}` : ''}${doc.reason ? `, reason: ${doc.reason}` : ''}`,
    );
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

  /**
   * An audit row as stored: values of sensitive keys replaced by MASK (unset ones kept, so a row
   * still says whether a value was set). Applying it again changes nothing; a value encrypted by an
   * older release (a queued row, a row sealed into the chain late) is masked too.
   */
  seal(doc: ConfigAuditDoc): ConfigAuditDoc {
    const out = { ...doc };
    const secret = this.sensitive(keyOfSlot(doc.key));
    const stored = (v: unknown) => (secret && v !== null ? MASK : this.codec.encode(doc.key, v));
    if (doc.oldValue !== undefined) out.oldValue = stored(doc.oldValue);
    if (doc.newValue !== undefined) out.newValue = stored(doc.newValue);
    return out;
  }

  /**
   * A row as written: sealed, and stamped with the time it is written by the database server's
   * clock (ServerClock), which exports go by: a process whose clock is behind must not stamp a
   * row into the span of an export that already ran.
   */
  private async stored(doc: ConfigAuditDoc): Promise<ConfigAuditDoc> {
    return { ...this.seal(doc), createdAt: await this.clock.sync() };
  }

  /** Writes an audit row under `id` (chosen by the caller, so a retry of it cannot write it twice). */
  async insert(doc: ConfigAuditDoc, id: string): Promise<void> {
    await this.chain.append({ _id: new mongoose.Types.ObjectId(id), ...(await this.stored(doc)) });
  }

  /**
   * Writes a row under an id derived from what it records, once: false when a row with that id
   * exists already (an event that happened once however many runs reached it).
   */
  async insertOnce(id: string, doc: ConfigAuditDoc): Promise<boolean> {
    return this.chain.append({ _id: id, ...(await this.stored(doc)) });
  }

  /**
   * Writes a row sealed earlier (a row queued during an outage), once: a row whose first attempt
   * reached the database after all (a paused server that resumed) is not written again. It joins
   * the chain where it is written, in the order rows were queued.
   */
  async insertSealed(doc: ConfigAuditDoc, id: string | undefined): Promise<void> {
    const _id =
      id && mongoose.isValidObjectId(id) ? new mongoose.Types.ObjectId(id) : new mongoose.Types.ObjectId();
    await this.chain.append({ _id, ...(await this.stored(doc)) });
  }

  /** Success rows of seeded versions (ids derived from key and version, like auditCommitted). */
  async insertSeeded(docs: (ConfigAuditDoc & { version: number })[]): Promise<void> {
    for (const d of docs)
      await this.chain.append({ _id: committedId(d.key, d.version), ...(await this.stored(d)) });
  }

  /**
   * Replaces every value of a sensitive key still held in an audit row (written in clear before
   * the key was declared sensitive) by its digest, leaving the row's hash valid (see
   * audit-hash.ts); part of key rotation. Each value is replaced only if still the one read.
   * Returns how many values it redacted.
   */
  async redactSensitive(): Promise<number> {
    let done = 0;
    const cursor = this.model.collection.find({}, { projection: { key: 1, oldValue: 1, newValue: 1 } });
    for await (const row of cursor) {
      if (!this.sensitive(keyOfSlot(String(row.key)))) continue;
      for (const field of ['oldValue', 'newValue'] as const) {
        const v: unknown = row[field];
        if (v === undefined || v === null || v === MASK || isRedacted(v)) continue;
        const res = await this.model.collection.updateOne(
          { _id: row._id, [field]: v },
          { $set: { [field]: redacted(v) } },
        );
        done += res.modifiedCount;
      }
    }
    return done;
  }

  /**
   * Chains the rows written before the chain existed (see AuditChain.sealUnchained), their
   * sensitive values masked as they are sealed. Returns how many this call sealed.
   */
  sealUnchained(): Promise<number> {
    return this.chain.sealUnchained((row) => this.seal(row as unknown as ConfigAuditDoc) as never);
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
