import { Schema, type Model, type QueryFilter } from 'mongoose';
import type { Actor, VersionAction } from './config-models.js';
import type { DbConnection } from './connection.js';
import { insertIfAbsent } from './insert-once.js';
import type { Scope } from './slots.js';

export const REQUEST_STATUSES = [
  'pending',
  'applying',
  'applied',
  'rejected',
  'withdrawn',
  'expired',
  'failed',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const REQUEST_KINDS = ['set', 'rollback', 'reset', 'import', 'restore'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** One change a request proposes: the value `key` gets at `scope`, against `baseVersion`. */
export interface PlannedChange {
  key: string;
  scope: Scope;
  /** The version action it will be written with (`unset` removes an override). */
  action: VersionAction;
  value?: unknown;
  restoredFrom?: number;
  /** The slot's version the change was computed against (0: no value there yet). */
  baseVersion: number;
  /** A scheduled change: approving it schedules it for this time (it applies then). */
  runAt?: Date;
  /** A temporary value: it holds this long once applied, then the value it replaced returns. */
  forMs?: number;
}

export interface RequestChange extends PlannedChange {
  /** The value now and the proposed one, as people see them (sensitive ones masked). */
  before: string;
  after: string;
  /** The proposed value's soft-limit warnings, shown to the requester and every reviewer. */
  warnings?: string[];
  /** After applying: the version written, or why it was not. */
  appliedVersion?: number;
  outcome?: string;
}

export interface RequestEvent {
  at: Date;
  actor: Actor;
  text: string;
}

export interface RequestApproval {
  actor: Actor;
  at: Date;
}

/**
 * Where a request is shown. `messageId` is '' while the process that won claim `attempt` at
 * `claimedAt` is posting it; `shown` is how many steps of the log the message shows.
 */
export interface RequestPost {
  channelId: string;
  messageId: string;
  claimedAt?: Date;
  attempt?: number;
  shown?: number;
}

/** A change request. `Level` is its impact level, whose names the key registry declares. */
export interface StoredRequest<Level extends string = string> {
  id: string;
  kind: RequestKind;
  status: RequestStatus;
  requester: Actor;
  reason?: string;
  level: Level;
  required: number;
  changes: RequestChange[];
  approvals: RequestApproval[];
  /** Every step, oldest first: created, approved, approvals cleared (and why), edited, applied... */
  log: RequestEvent[];
  /** Incremented by every edit or rebase; approvals count only within one revision. */
  rev: number;
  createdAt: Date;
  expiresAt: Date;
  decidedBy?: Actor;
  rejectReason?: string;
  /** Where the request was posted (to keep the post up to date). */
  post?: RequestPost;
  /** The preview shown when it was made (impact, rollback plan), as lines. */
  preview: string[];
  /** Where it was made from. */
  ctx?: { guildId?: string; channelId?: string };
  applyingSince?: Date;
}

export type RequestDoc<Level extends string = string> = Omit<StoredRequest<Level>, 'id'> & { _id: string };

const actorSchema = new Schema<Actor>(
  { id: { type: String, required: true }, tag: { type: String, required: true } },
  { _id: false },
);

const requestSchema = new Schema<RequestDoc>(
  {
    _id: { type: String },
    kind: { type: String, enum: REQUEST_KINDS, required: true },
    status: { type: String, enum: REQUEST_STATUSES, required: true },
    requester: { type: actorSchema, required: true },
    reason: { type: String },
    level: { type: String, required: true },
    required: { type: Number, required: true },
    changes: { type: Schema.Types.Mixed, required: true },
    approvals: { type: Schema.Types.Mixed, required: true },
    log: { type: Schema.Types.Mixed, required: true },
    rev: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    decidedBy: { type: actorSchema },
    rejectReason: { type: String },
    post: { type: Schema.Types.Mixed },
    preview: { type: [String], required: true },
    ctx: { type: Schema.Types.Mixed },
    applyingSince: { type: Date },
  },
  { versionKey: false, bufferCommands: false, collection: 'config_change_requests', minimize: false },
);
requestSchema.index({ status: 1, createdAt: -1 });

/**
 * Who won a step that must happen once across processes (posting a request, approving one
 * revision as one admin, closing a request): a unique insert, the one write MongoDB and FerretDB
 * both arbitrate atomically (FerretDB runs a conditional update as a read then a write, so two
 * processes could both "win" one).
 */
interface ClaimDoc {
  _id: string;
  at: Date;
}

const claimSchema = new Schema<ClaimDoc>(
  { _id: { type: String }, at: { type: Date, required: true } },
  { versionKey: false, bufferCommands: false, collection: 'config_change_request_claims' },
);

/**
 * Where each request is posted, by request id: kept apart from the request, because FerretDB
 * writes an update as the whole document it read, and a post being recorded must never undo a
 * step (an approval, a withdrawal) taken at the same moment.
 */
type PostDoc = RequestPost & { _id: string };

const postSchema = new Schema<PostDoc>(
  {
    _id: { type: String },
    channelId: { type: String, required: true },
    messageId: { type: String },
    claimedAt: { type: Date },
    attempt: { type: Number },
    shown: { type: Number },
  },
  { versionKey: false, bufferCommands: false, collection: 'config_change_request_posts' },
);

/** The record that closes a request (applied, rejected, withdrawn, expired): written once. */
const closeId = (id: string): string => `close:${id}`;
/** Approval records of one revision: `approve:<id>#<rev>:<user id>`. */
const approvalPrefix = (id: string, rev: number): string => `approve:${id}#${rev}:`;

/**
 * The change requests (`config_change_requests`), their once-only steps
 * (`config_change_request_claims`) and where each is posted (`config_change_request_posts`).
 * A request read here carries its status, approvals and post from the records that decide them:
 * the request document's own copies are for queries and may lag them.
 */
export class RequestRecords<Level extends string = string> {
  private readonly model: Model<RequestDoc>;
  private readonly claims: Model<ClaimDoc>;
  private readonly posts: Model<PostDoc>;

  constructor(conn: DbConnection) {
    this.model = (conn.models.ChangeRequest ??
      conn.model('ChangeRequest', requestSchema)) as Model<RequestDoc>;
    this.claims = (conn.models.ChangeRequestClaim ??
      conn.model('ChangeRequestClaim', claimSchema)) as Model<ClaimDoc>;
    this.posts = (conn.models.ChangeRequestPost ??
      conn.model('ChangeRequestPost', postSchema)) as Model<PostDoc>;
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

  async insert(doc: RequestDoc<Level>): Promise<void> {
    await this.model.create(doc);
  }

  /** A request as its records decide it, or undefined. */
  async find(id: string): Promise<RequestDoc<Level> | undefined> {
    const doc = await this.model.findOne({ _id: id }).lean<RequestDoc<Level>>().exec();
    return doc ? (await this.settled([doc]))[0] : undefined;
  }

  /** Newest first; `status` filters (on the status its records decide). */
  async list(status: RequestStatus | undefined, limit: number): Promise<RequestDoc<Level>[]> {
    const docs = await this.model
      .find(status ? { status } : {})
      .sort({ createdAt: -1 })
      .limit(limit)
      .lean<RequestDoc<Level>[]>()
      .exec();
    const reqs = await this.settled(docs);
    return status ? reqs.filter((r) => r.status === status) : reqs;
  }

  /** The documents of pending requests, as stored (for queries: they may lag their records). */
  pending(): Promise<RequestDoc<Level>[]> {
    return this.docs({ status: 'pending' });
  }

  /** The documents of pending requests past their expiry at `now`. */
  expired(now: Date): Promise<RequestDoc<Level>[]> {
    return this.docs({ status: 'pending', expiresAt: { $lte: now } });
  }

  /** The documents of requests applying since before `before`. */
  applyingSince(before: Date): Promise<RequestDoc<Level>[]> {
    return this.docs({ status: 'applying', applyingSince: { $lt: before } });
  }

  /** Every request document (key rotation). */
  all(): Promise<RequestDoc<Level>[]> {
    return this.docs({});
  }

  /**
   * Claims attempt `attempt` at posting request `id` in `channelId`, once however many processes
   * try: true for the one that won it (its post then reads as being posted).
   */
  async claimPost(id: string, channelId: string, attempt: number, now: Date): Promise<boolean> {
    const won = await insertIfAbsent(this.claims.collection, { _id: `post:${id}#${attempt}`, at: now });
    if (won)
      await this.posts
        .replaceOne({ _id: id }, { channelId, messageId: '', claimedAt: now, attempt }, { upsert: true })
        .exec();
    return won;
  }

  /** Records where the request was posted, showing its first `shown` steps. */
  async posted(id: string, post: { channelId: string; messageId: string; shown?: number }): Promise<void> {
    await this.posts.updateOne({ _id: id }, { $set: post }, { upsert: true }).exec();
  }

  /** Records that the post shows the first `shown` steps of the log (never moves back). */
  async markShown(id: string, shown: number): Promise<void> {
    await this.posts
      .updateOne(
        { _id: id, messageId: { $gt: '' }, $or: [{ shown: { $exists: false } }, { shown: { $lt: shown } }] },
        { $set: { shown } },
      )
      .exec();
  }

  /**
   * Records `approval` of revision `rev`, then logs `event`. An approval is a unique record per
   * admin and revision: two approvals at the same moment are both counted, and one admin's twice
   * is refused (false), whatever the server.
   */
  async addApproval(
    id: string,
    rev: number,
    approval: RequestApproval,
    event: RequestEvent,
  ): Promise<boolean> {
    const recorded = await insertIfAbsent(this.claims.collection, {
      _id: `${approvalPrefix(id, rev)}${approval.actor.id}`,
      ...approval,
    });
    if (recorded)
      await this.model.updateOne({ _id: id, rev }, { $push: { approvals: approval, log: event } }).exec();
    return recorded;
  }

  /**
   * Closes a request with `status` (`applying` when it is being applied), once: of every step
   * racing to close it (approvers completing the quorum together, a reject, an expiry), exactly
   * one gets true. The document follows with `set` and `event`.
   */
  async close(
    id: string,
    status: RequestStatus,
    at: Date,
    set: Partial<RequestDoc<Level>> = {},
    event?: RequestEvent,
  ): Promise<boolean> {
    if (!(await insertIfAbsent(this.claims.collection, { _id: closeId(id), at, status }))) return false;
    await this.model
      .updateOne({ _id: id }, { $set: { status, ...set }, ...(event ? { $push: { log: event } } : {}) })
      .exec();
    return true;
  }

  /** Records how applying a request ended; only the process that closed it as applying calls this. */
  async finish(id: string, status: RequestStatus, event: RequestEvent): Promise<void> {
    await this.claims.collection.updateOne({ _id: closeId(id) } as never, { $set: { status } });
    // Only the holder of the closure gets here, so this write needs no condition. A racing write
    // may put back the status it read; reads trust the closure record, not this copy.
    await this.model.updateOne({ _id: id }, { $set: { status }, $push: { log: event } }).exec();
  }

  /** Takes over applying a request whose applier stopped: true for the one process that does. */
  async takeOver(id: string, since: Date | undefined, now: Date): Promise<boolean> {
    const claimed = await this.model
      .updateOne({ _id: id, status: 'applying', applyingSince: since }, { $set: { applyingSince: now } })
      .exec();
    return claimed.modifiedCount === 1;
  }

  /** Records change `index` of a request being applied (with its outcome). */
  async setChange(id: string, index: number, change: RequestChange): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { [`changes.${index}`]: change } }).exec();
  }

  /**
   * The next revision of a pending request: new changes (and preview), approvals starting over,
   * `event` logged. False when the request moved past revision `rev` meanwhile.
   */
  async revise(
    id: string,
    rev: number,
    changes: RequestChange[],
    preview: string[] | undefined,
    event: RequestEvent,
  ): Promise<boolean> {
    const res = await this.model
      .updateOne(
        { _id: id, status: 'pending', rev },
        {
          $set: { changes, approvals: [], rev: rev + 1, ...(preview ? { preview } : {}) },
          $push: { log: event },
        },
      )
      .exec();
    return res.modifiedCount === 1;
  }

  /** Replaces the changes of a request as stored (values sealed with a new key). */
  async setChanges(id: string, changes: RequestChange[]): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { changes } }).exec();
  }

  private docs(filter: QueryFilter<RequestDoc>): Promise<RequestDoc<Level>[]> {
    return this.model.find(filter).lean<RequestDoc<Level>[]>().exec();
  }

  /** The documents with the status, approvals and post their records decide. */
  private async settled(docs: RequestDoc<Level>[]): Promise<RequestDoc<Level>[]> {
    if (!docs.length) return docs;
    const ids = docs.map((d) => d._id);
    const posts = await this.posts
      .find({ _id: { $in: ids } })
      .lean<PostDoc[]>()
      .exec();
    const byId = new Map(posts.map(({ _id, ...post }) => [_id, post]));
    // Approvals and closures are unique records (exact on any server); the request document's
    // own copies are for queries and may lag them.
    const records = await this.claims.collection.find({ _id: { $in: ids.map(closeId) } } as never).toArray();
    const closed = new Map(
      (records as unknown as { _id: string; status: RequestStatus }[]).map((c) => [c._id, c.status]),
    );
    const approvals = await this.approvalsOf(ids);
    return docs.map((d) => {
      const { post: _legacy, ...rest } = d;
      const post = byId.get(d._id);
      return {
        ...rest,
        status: closed.get(closeId(d._id)) ?? d.status,
        approvals: approvals.get(`${d._id}#${d.rev}`) ?? [],
        ...(post ? { post } : {}),
      } as RequestDoc<Level>;
    });
  }

  /** The approvals recorded for each revision of these requests, oldest first, in one read. */
  private async approvalsOf(ids: readonly string[]): Promise<Map<string, RequestApproval[]>> {
    // Request ids are `CR-` and letters and digits: safe inside a pattern.
    const docs = (await this.claims.collection
      .find({ _id: { $regex: `^approve:(${ids.join('|')})#` } } as never)
      .toArray()) as unknown as { _id: string; actor: Actor; at: Date }[];
    const out = new Map<string, RequestApproval[]>();
    for (const d of docs.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime())) {
      const revision = d._id.slice('approve:'.length, d._id.lastIndexOf(':'));
      out.set(revision, [...(out.get(revision) ?? []), { actor: d.actor, at: new Date(d.at) }]);
    }
    return out;
  }
}
