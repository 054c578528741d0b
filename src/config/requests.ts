import { randomBytes } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import { insertIfAbsent } from '../db/connection.js';
import { UserError } from '../errors.js';
import { errorDetail, logger } from '../logger.js';
import type { AuditRow } from './audit-log.js';
import type { Actor, VersionAction } from './models.js';
import type { ImpactLevel } from './registry.js';
import type { Scope } from './scopes.js';
import type { RequestContext } from './types.js';

/**
 * Change requests: a change of a key whose impact level needs approvals does not apply; it is
 * stored here with the versions it was computed against, approved by admins other than the
 * requester, and applied once the quorum is reached, as versions that record the request and its
 * approvers. Approvals belong to one revision of the request: an edit, or any of its keys moving,
 * clears them (a request never applies on top of a value nobody reviewed), and the request says
 * so. Applying is claimed by compare-and-set on the status, so two admins pressing Approve at the
 * same moment apply it once; each change is written with `expectedVersion`, and a process that
 * dies while applying leaves the request `applying`, resumed by `resume()`.
 */

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

export interface ChangeRequest {
  id: string;
  kind: RequestKind;
  status: RequestStatus;
  requester: Actor;
  reason?: string;
  level: ImpactLevel;
  required: number;
  changes: RequestChange[];
  approvals: { actor: Actor; at: Date }[];
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
  ctx?: RequestContext;
  applyingSince?: Date;
}

type RequestDoc = Omit<ChangeRequest, 'id'> & { _id: string };

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
 * Who won a step that must happen once across processes (posting a request, applying one): a
 * unique insert, the one write MongoDB and FerretDB both arbitrate atomically (FerretDB runs a
 * conditional update as a read then a write, so two processes could both "win" one).
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

/** What the requests need from the configuration service. */
export interface RequestDeps {
  /** Seals sensitive values at rest (the service's codec), and opens them. */
  encode(key: string, value: unknown): unknown;
  decode(key: string, stored: unknown): unknown;
  /** The slot's version this process holds now. */
  heldVersion(key: string, scope: Scope): number;
  /** The value at the slot as people see it (masked when sensitive), for a rebase's new "before". */
  shown(key: string, scope: Scope): string;
  /** Writes one approved change (with expectedVersion = its base version); returns the version written. */
  apply(
    change: PlannedChange,
    request: ChangeRequest,
    approvers: Actor[],
  ): Promise<{ version: number; outcome?: string }>;
  audit(row: AuditRow): Promise<void>;
  /** The impact preview of a change as it would apply now (undefined when there is none to give). */
  preview?(change: PlannedChange): Promise<string[] | undefined>;
}

export type RequestListener = (request: ChangeRequest, what: string) => void;

/** Applying that has not finished after this long is taken over by resume(). */
const STALE_APPLYING_MS = 60_000;

export class ChangeRequests {
  private readonly model: Model<RequestDoc>;
  private readonly claims: Model<ClaimDoc>;
  private readonly posts: Model<PostDoc>;
  private readonly listeners = new Set<RequestListener>();

  constructor(
    conn: Connection,
    private readonly deps: RequestDeps,
  ) {
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

  /** Called after every step of any request made or moved by this process. */
  subscribe(listener: RequestListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  // ---- reads -------------------------------------------------------------------------------

  async get(input: string): Promise<ChangeRequest> {
    const id = normaliseId(input);
    const doc = await this.model.findOne({ _id: id }).lean<RequestDoc>().exec();
    if (!doc)
      throw new UserError(
        'UNKNOWN_KEY',
        `No change request ${input.slice(0, 20)}. /config requests lists them.`,
        {
          key: `request:${id.slice(0, 20)}`,
        },
      );
    return this.withPosts([this.open(doc)]).then(([r]) => r as ChangeRequest);
  }

  /** Newest first; `status` filters. */
  async list(status?: RequestStatus, limit = 25): Promise<ChangeRequest[]> {
    const docs = await this.model
      .find(status ? { status } : {})
      .sort({ createdAt: -1 })
      .limit(limit)
      .lean<RequestDoc[]>()
      .exec();
    // The documents' status may lag their closure records: filter on the status as read.
    const reqs = await this.withPosts(docs.map((d) => this.open(d)));
    return status ? reqs.filter((r) => r.status === status) : reqs;
  }

  /** The requests with where each is posted. */
  private async withPosts(reqs: ChangeRequest[]): Promise<ChangeRequest[]> {
    if (!reqs.length) return reqs;
    const posts = await this.posts
      .find({ _id: { $in: reqs.map((r) => r.id) } })
      .lean<PostDoc[]>()
      .exec();
    const byId = new Map(posts.map(({ _id, ...post }) => [_id, post]));
    // Approvals and closures are unique records (exact on any server); the request document's
    // own copies are for queries and may lag them.
    const records = await this.claims.collection
      .find({ _id: { $in: reqs.map((r) => closeId(r.id)) } } as never)
      .toArray();
    const closed = new Map(
      (records as unknown as { _id: string; status: RequestStatus }[]).map((c) => [c._id, c.status]),
    );
    const approvals = await this.approvalsOf(reqs);
    return reqs.map((r) => {
      const { post: _legacy, ...rest } = r;
      const post = byId.get(r.id);
      const status = closed.get(closeId(r.id)) ?? r.status;
      return {
        ...rest,
        status,
        approvals: approvals.get(`${r.id}#${r.rev}`) ?? [],
        ...(post ? { post } : {}),
      };
    });
  }

  /** The approvals recorded for the current revision of each request, oldest first, in one read. */
  private async approvalsOf(
    reqs: readonly ChangeRequest[],
  ): Promise<Map<string, { actor: Actor; at: Date }[]>> {
    // Request ids are `CR-` and letters and digits: safe inside a pattern.
    const ids = reqs.map((r) => r.id).join('|');
    const docs = (await this.claims.collection
      .find({ _id: { $regex: `^approve:(${ids})#` } } as never)
      .toArray()) as unknown as { _id: string; actor: Actor; at: Date }[];
    const out = new Map<string, { actor: Actor; at: Date }[]>();
    for (const d of docs.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime())) {
      const revision = d._id.slice('approve:'.length, d._id.lastIndexOf(':'));
      out.set(revision, [...(out.get(revision) ?? []), { actor: d.actor, at: new Date(d.at) }]);
    }
    return out;
  }

  // ---- steps -------------------------------------------------------------------------------

  async create(input: {
    kind: RequestKind;
    requester: Actor;
    reason?: string;
    level: ImpactLevel;
    required: number;
    changes: RequestChange[];
    preview: string[];
    ttlMs: number;
    ctx?: RequestContext;
  }): Promise<ChangeRequest> {
    const now = new Date();
    const request: ChangeRequest = {
      id: newId(),
      kind: input.kind,
      status: 'pending',
      requester: input.requester,
      ...(input.reason ? { reason: input.reason } : {}),
      level: input.level,
      required: input.required,
      changes: input.changes,
      approvals: [],
      log: [{ at: now, actor: input.requester, text: 'requested' }],
      rev: 1,
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.ttlMs),
      preview: input.preview,
      ...(input.ctx ? { ctx: input.ctx } : {}),
    };
    await this.model.create(this.seal(request));
    await this.audited(request, input.requester, 'request-create', 'success');
    this.tell(request, 'created');
    return request;
  }

  /**
   * Claims the posting of a request, once however many processes try: true for the one that may
   * post it (then `posted`). A claim not followed by `posted` within a minute (its process died)
   * is taken over by the next attempt.
   */
  async claimPost(input: string, channelId: string, now = new Date()): Promise<boolean> {
    const req = await this.get(input);
    const post = req.post;
    if (post?.messageId) return false;
    if (post?.claimedAt && now.getTime() - new Date(post.claimedAt).getTime() < STALE_APPLYING_MS)
      return false;
    const attempt = (post?.attempt ?? 0) + 1;
    const won = await insertIfAbsent(this.claims.collection, { _id: `post:${req.id}#${attempt}`, at: now });
    if (won)
      await this.posts
        .replaceOne({ _id: req.id }, { channelId, messageId: '', claimedAt: now, attempt }, { upsert: true })
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
   * Approves as `actor`. Refuses the requester, a second approval by the same admin, a request
   * that is no longer pending, and a request whose keys moved since it was made (its approvals are
   * cleared and it says so: the approver must look again). Applies at the quorum; returns the
   * request as it now is.
   */
  async approve(input: string, actor: Actor, ctx: RequestContext = {}): Promise<ChangeRequest> {
    const req = await this.pendingOrThrow(input, actor, 'request-approve', ctx);
    if (req.requester.id === actor.id)
      return this.refuse(
        req,
        actor,
        'request-approve',
        ctx,
        'PERMISSION_DENIED',
        'You made this request: another admin must approve it.',
      );
    if (req.approvals.some((a) => a.actor.id === actor.id))
      return this.refuse(req, actor, 'request-approve', ctx, 'UNCHANGED', `You approved ${req.id} already.`);
    const moved = await this.rebaseIfMoved(req, actor);
    if (moved)
      return this.refuse(
        req,
        actor,
        'request-approve',
        ctx,
        'CONFLICT',
        `${moved}: its approvals were cleared. Review ${req.id} again (/config request view id:${req.id}) and approve it if it is still right.`,
      );
    const at = new Date();
    // The approval is a unique record per admin and revision: two approvals at the same moment
    // are both counted, and one admin's twice is refused, whatever the server.
    const recorded = await insertIfAbsent(this.claims.collection, {
      _id: `${approvalPrefix(req.id, req.rev)}${actor.id}`,
      at,
      actor,
    });
    if (!recorded)
      return this.refuse(req, actor, 'request-approve', ctx, 'UNCHANGED', `You approved ${req.id} already.`);
    await this.model
      .updateOne(
        { _id: req.id, rev: req.rev },
        { $push: { approvals: { actor, at }, log: { at, actor, text: 'approved' } } },
      )
      .exec();
    await this.audited(req, actor, 'request-approve', 'success', ctx);
    const after = await this.get(req.id);
    this.tell(after, 'approved');
    if (after.status === 'pending' && after.rev === req.rev && after.approvals.length >= after.required)
      return this.applyNow(after);
    return after;
  }

  /** Rejects with a reason (required); the requester withdraws instead. */
  async reject(
    input: string,
    actor: Actor,
    reason: string,
    ctx: RequestContext = {},
  ): Promise<ChangeRequest> {
    const req = await this.pendingOrThrow(input, actor, 'request-reject', ctx);
    const why = reason.trim();
    if (!why)
      return this.refuse(req, actor, 'request-reject', ctx, 'INVALID_VALUE', 'A rejection needs a reason.');
    if (why.length > 500)
      return this.refuse(
        req,
        actor,
        'request-reject',
        ctx,
        'TOO_LONG',
        'The reason is at most 500 characters.',
      );
    return this.close(req, actor, 'rejected', `rejected: ${why}`, 'request-reject', ctx, {
      rejectReason: why,
    });
  }

  /** The requester takes the request back. */
  async withdraw(input: string, actor: Actor, ctx: RequestContext = {}): Promise<ChangeRequest> {
    const req = await this.pendingOrThrow(input, actor, 'request-withdraw', ctx);
    if (req.requester.id !== actor.id)
      return this.refuse(
        req,
        actor,
        'request-withdraw',
        ctx,
        'PERMISSION_DENIED',
        `Only ${req.requester.tag}, who made ${req.id}, can withdraw it; reject it instead.`,
      );
    return this.close(req, actor, 'withdrawn', 'withdrawn', 'request-withdraw', ctx);
  }

  /**
   * The requester replaces the proposed change(s) (an edit of a set's value): every approval is
   * cleared and the request says so.
   */
  async edit(
    input: string,
    actor: Actor,
    changes: RequestChange[],
    ctx: RequestContext = {},
  ): Promise<ChangeRequest> {
    const req = await this.pendingOrThrow(input, actor, 'request-edit', ctx);
    if (req.requester.id !== actor.id)
      return this.refuse(
        req,
        actor,
        'request-edit',
        ctx,
        'PERMISSION_DENIED',
        `Only ${req.requester.tag}, who made ${req.id}, can edit it.`,
      );
    const text = req.approvals.length
      ? `edited by the requester: ${req.approvals.length} approval(s) cleared`
      : 'edited by the requester';
    if (!(await this.revise(req, changes, actor, text)))
      return this.refuse(
        req,
        actor,
        'request-edit',
        ctx,
        'CONFLICT',
        `${req.id} changed while you edited it; look at it again.`,
      );
    await this.audited(req, actor, 'request-edit', 'success', ctx);
    const after = await this.get(req.id);
    this.tell(after, 'edited');
    return after;
  }

  /**
   * A key changed: every pending request with a change of that slot computed against an older
   * version loses its approvals and says so. Never throws.
   */
  async keyMoved(key: string, scope: Scope): Promise<void> {
    try {
      const docs = await this.model.find({ status: 'pending' }).lean<RequestDoc[]>().exec();
      for (const doc of docs) {
        const req = this.open(doc);
        if (!req.changes.some((c) => c.key === key && c.scope === scope)) continue;
        await this.rebaseIfMoved(req, { id: 'system', tag: 'system' });
      }
    } catch (err) {
      logger.warn(`Could not check change requests after ${key} changed`, errorDetail(err));
    }
  }

  /** Closes pending requests past their expiry. Returns the ones this call closed. */
  async expire(now = new Date()): Promise<ChangeRequest[]> {
    const due = await this.model
      .find({ status: 'pending', expiresAt: { $lte: now } })
      .lean<RequestDoc[]>()
      .exec();
    const closed: ChangeRequest[] = [];
    for (const doc of due) {
      const req = this.open(doc);
      const done = await this.transition(
        req,
        'expired',
        { id: 'system', tag: 'system' },
        'expired unapproved',
      );
      if (done) {
        await this.audited(req, { id: 'system', tag: 'system' }, 'request-expire', 'success');
        closed.push(done);
      }
    }
    return closed;
  }

  /** Finishes requests whose applying process stopped (a crash between two of their changes). */
  async resume(now = new Date()): Promise<void> {
    const stuck = await this.model
      .find({ status: 'applying', applyingSince: { $lt: new Date(now.getTime() - STALE_APPLYING_MS) } })
      .lean<RequestDoc[]>()
      .exec();
    for (const doc of stuck) {
      // The document may lag its closure record: only a request still applying is taken over.
      const req = await this.get(doc._id);
      if (req.status !== 'applying') continue;
      const claimed = await this.model
        .updateOne(
          { _id: req.id, status: 'applying', applyingSince: doc.applyingSince },
          { $set: { applyingSince: now } },
        )
        .exec();
      if (claimed.modifiedCount === 1) await this.applyClaimed({ ...req, applyingSince: now });
    }
  }

  /**
   * Re-encrypts the sealed values of every request with the current key (key rotation); `reseal`
   * returns undefined for a value already on it. Returns how many values it rewrote.
   */
  async reseal(reseal: (key: string, stored: unknown) => unknown): Promise<number> {
    let count = 0;
    for (const doc of await this.model.find({}).lean<RequestDoc[]>().exec()) {
      let changed = false;
      const changes = doc.changes.map((c) => {
        if (c.value === undefined) return c;
        const next = reseal(c.key, c.value);
        if (next === undefined) return c;
        changed = true;
        count++;
        return { ...c, value: next };
      });
      if (changed) await this.model.updateOne({ _id: doc._id }, { $set: { changes } }).exec();
    }
    return count;
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Claims the request for applying (once, however many approvers reached the quorum together). */
  private async applyNow(req: ChangeRequest): Promise<ChangeRequest> {
    const since = new Date();
    // Two approvers completing the quorum together both get here, and a reject or an expiry may
    // too: the closure record is a unique insert, so exactly one of them closes the request.
    if (
      !(await insertIfAbsent(this.claims.collection, { _id: closeId(req.id), at: since, status: 'applying' }))
    )
      return this.get(req.id);
    // The closure is ours: the document follows (resume() finds it by this if this process dies).
    await this.model
      .updateOne({ _id: req.id }, { $set: { status: 'applying', applyingSince: since } })
      .exec();
    return this.applyClaimed({ ...req, status: 'applying', applyingSince: since });
  }

  private async applyClaimed(req: ChangeRequest): Promise<ChangeRequest> {
    const approvers = req.approvals.map((a) => a.actor);
    const changes = [...req.changes];
    for (const [i, c] of changes.entries()) {
      if (c.appliedVersion !== undefined || c.outcome !== undefined) continue;
      let outcome: Pick<RequestChange, 'appliedVersion' | 'outcome'>;
      try {
        const r = await this.deps.apply(c, req, approvers);
        outcome = { appliedVersion: r.version, outcome: r.outcome ?? `applied as v${r.version}` };
      } catch (err) {
        if (err instanceof UserError && err.code === 'UNAVAILABLE') throw err; // resumed later
        outcome = {
          outcome:
            err instanceof UserError
              ? err.code === 'UNCHANGED'
                ? 'already that value'
                : `not applied: ${err.message}`
              : `not applied: internal error (${String(errorDetail(err).error)})`,
        };
        if (!(err instanceof UserError))
          logger.error(`Applying ${req.id} failed on ${c.key}`, errorDetail(err));
      }
      changes[i] = { ...c, ...outcome };
      await this.model
        .updateOne(
          { _id: req.id },
          { $set: { [`changes.${i}`]: this.sealChange(changes[i] as RequestChange) } },
        )
        .exec();
    }
    const failed = changes.filter(
      (c) => c.appliedVersion === undefined && c.outcome !== 'already that value',
    );
    const status: RequestStatus = failed.length ? 'failed' : 'applied';
    const at = new Date();
    const text = failed.length
      ? `applying finished with ${failed.length} change(s) not applied`
      : `applied (approved by ${approvers.map((a) => a.tag).join(', ')})`;
    await this.claims.collection.updateOne({ _id: closeId(req.id) } as never, { $set: { status } });
    // Only the holder of the closure gets here, so this write needs no condition. A racing write
    // may put back the status it read; reads trust the closure record, not this copy.
    await this.model
      .updateOne(
        { _id: req.id },
        { $set: { status }, $push: { log: { at, actor: { id: 'system', tag: 'system' }, text } } },
      )
      .exec();
    const after = await this.get(req.id);
    await this.audited(
      after,
      { id: 'system', tag: 'system' },
      'request-apply',
      failed.length ? 'failed' : 'success',
    );
    this.tell(after, status);
    return after;
  }

  /**
   * If a slot of the request moved past the version it was computed against, clears the
   * approvals, takes the new versions as the base and logs why. Returns that why, or undefined.
   */
  private async rebaseIfMoved(req: ChangeRequest, actor: Actor): Promise<string | undefined> {
    const moved = req.changes
      .map((c) => ({ c, now: this.deps.heldVersion(c.key, c.scope) }))
      .filter(({ c, now }) => now !== c.baseVersion);
    if (!moved.length) return undefined;
    const why = moved
      .map(
        ({ c, now }) =>
          `${c.key}${c.scope === 'global' ? '' : ` at ${c.scope}`} changed since the request (v${c.baseVersion} → v${now})`,
      )
      .join('; ');
    const changes = req.changes.map((c) => {
      const m = moved.find((x) => x.c === c);
      return m ? { ...c, baseVersion: m.now, before: this.deps.shown(c.key, c.scope) } : c;
    });
    const text = `${why}: ${req.approvals.length} approval(s) cleared`;
    if (await this.revise(req, changes, actor, text)) this.tell(await this.get(req.id), 'rebased');
    return why;
  }

  /**
   * The next revision of a request (an edit, a key that moved): new changes, a preview computed
   * again for a single change, and approvals that start over (they belong to a revision). False
   * when the request moved meanwhile.
   */
  private async revise(
    req: ChangeRequest,
    changes: RequestChange[],
    actor: Actor,
    text: string,
  ): Promise<boolean> {
    const only = changes.length === 1 ? changes[0] : undefined;
    const preview =
      only && this.deps.preview ? await this.deps.preview(only).catch(() => undefined) : undefined;
    const res = await this.model
      .updateOne(
        { _id: req.id, status: 'pending', rev: req.rev },
        {
          $set: {
            changes: changes.map((c) => this.sealChange(c)),
            approvals: [],
            rev: req.rev + 1,
            ...(preview ? { preview } : {}),
          },
          $push: { log: { at: new Date(), actor, text } },
        },
      )
      .exec();
    return res.modifiedCount === 1;
  }

  private async close(
    req: ChangeRequest,
    actor: Actor,
    status: RequestStatus,
    text: string,
    action: string,
    ctx: RequestContext,
    extra: Partial<RequestDoc> = {},
  ): Promise<ChangeRequest> {
    const done = await this.transition(req, status, actor, text, extra);
    if (!done) {
      const now = await this.get(req.id);
      return this.refuse(
        now,
        actor,
        action,
        ctx,
        'CONFLICT',
        `${req.id} is ${now.status} now; nothing was changed.`,
      );
    }
    await this.audited(req, actor, action, 'success', ctx, extra.rejectReason);
    return done;
  }

  private async transition(
    req: ChangeRequest,
    status: RequestStatus,
    actor: Actor,
    text: string,
    extra: Partial<RequestDoc> = {},
  ): Promise<ChangeRequest | undefined> {
    const at = new Date();
    if (!(await insertIfAbsent(this.claims.collection, { _id: closeId(req.id), at, status })))
      return undefined;
    await this.model
      .updateOne(
        { _id: req.id },
        { $set: { status, decidedBy: actor, ...extra }, $push: { log: { at, actor, text } } },
      )
      .exec();
    const after = await this.get(req.id);
    this.tell(after, status);
    return after;
  }

  private async pendingOrThrow(
    input: string,
    actor: Actor,
    action: string,
    ctx: RequestContext,
  ): Promise<ChangeRequest> {
    const req = await this.get(input);
    if (req.status === 'pending' && req.expiresAt.getTime() <= Date.now()) {
      await this.expire();
      return this.refuse(
        req,
        actor,
        action,
        ctx,
        'CONFLICT',
        `${req.id} expired ${req.expiresAt.toISOString()}; make a new request.`,
      );
    }
    if (req.status !== 'pending')
      return this.refuse(
        req,
        actor,
        action,
        ctx,
        'CONFLICT',
        `${req.id} is ${req.status}; nothing was changed.`,
      );
    return req;
  }

  /** Audits a refused step and throws its message. */
  private async refuse(
    req: ChangeRequest,
    actor: Actor,
    action: string,
    ctx: RequestContext,
    code: 'PERMISSION_DENIED' | 'UNCHANGED' | 'CONFLICT' | 'INVALID_VALUE' | 'TOO_LONG',
    message: string,
  ): Promise<never> {
    await this.audited(
      req,
      actor,
      action,
      code === 'PERMISSION_DENIED' ? 'denied' : 'failed',
      ctx,
      undefined,
      message,
    );
    // `audited`: the refusal has its row already (the dispatcher writes none of its own).
    throw new UserError(code, message, { key: `request:${req.id}`, action, audited: true });
  }

  private async audited(
    req: ChangeRequest,
    actor: Actor,
    action: string,
    status: 'success' | 'failed' | 'denied',
    ctx: RequestContext = {},
    reason?: string,
    error?: string,
  ): Promise<void> {
    await this.deps.audit({
      key: req.changes.length === 1 ? (req.changes[0]?.key ?? req.id) : `request:${req.id}`,
      action: action as AuditRow['action'],
      status,
      actor,
      reason: reason ?? `${req.id}${req.reason ? `: ${req.reason}` : ''}`,
      ...(error ? { error } : {}),
      ...ctx,
    });
  }

  private tell(req: ChangeRequest, what: string): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(req, what);
      } catch (err) {
        logger.error(`A change request listener failed on ${req.id}`, errorDetail(err));
      }
    }
  }

  private seal(req: ChangeRequest): RequestDoc {
    const { id, ...rest } = req;
    return { _id: id, ...rest, changes: req.changes.map((c) => this.sealChange(c)) };
  }

  private sealChange(c: RequestChange): RequestChange {
    return c.value === undefined ? c : { ...c, value: this.deps.encode(c.key, c.value) };
  }

  private open(doc: RequestDoc): ChangeRequest {
    const { _id, ...rest } = doc;
    return {
      id: _id,
      ...rest,
      changes: doc.changes.map((c) => ({
        ...c,
        ...(c.value === undefined ? {} : { value: this.deps.decode(c.key, c.value) }),
        ...(c.runAt ? { runAt: new Date(c.runAt) } : {}),
      })),
      approvals: doc.approvals.map((a) => ({ ...a, at: new Date(a.at) })),
      log: doc.log.map((l) => ({ ...l, at: new Date(l.at) })),
    };
  }
}

/** The record that closes a request (applied, rejected, withdrawn, expired): written once. */
const closeId = (id: string): string => `close:${id}`;
/** Approval records of one revision: `approve:<id>#<rev>:<user id>`. */
const approvalPrefix = (id: string, rev: number): string => `approve:${id}#${rev}:`;

/** `CR-` and five characters people can read aloud (no 0/O, 1/I). */
function newId(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(5);
  return `CR-${[...bytes].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

function normaliseId(input: string): string {
  const t = input.trim().toUpperCase();
  return t.startsWith('CR-') ? t : `CR-${t}`;
}
