import { randomBytes } from 'node:crypto';
import type { Actor } from '../storage/config-models.js';
import type { DbConnection } from '../storage/connection.js';
import type { RequestChange, RequestKind, RequestStatus } from '../storage/requests.js';
import { applyNow, rebaseIfMoved } from './request-apply.js';
import { RequestBook, type ChangeRequest, type RequestDeps, type RequestListener } from './request-book.js';
import {
  expireDue,
  pendingOrRefuse,
  rebaseOnMove,
  resealAll,
  resumeStuck,
  STALE_APPLYING_MS,
} from './request-upkeep.js';
import type { ImpactLevel } from '../config/registry.js';
import type { Scope } from '../config/scopes.js';
import type { RequestContext } from '../config/types.js';

export {
  REQUEST_KINDS,
  REQUEST_STATUSES,
  type PlannedChange,
  type RequestChange,
  type RequestEvent,
  type RequestKind,
  type RequestPost,
  type RequestStatus,
} from '../storage/requests.js';
export type { ChangeRequest, RequestDeps, RequestListener } from './request-book.js';

/**
 * Change requests: a change of a key whose impact level needs approvals does not apply; it is
 * stored with the versions it was computed against, approved by admins other than the
 * requester, and applied once the quorum is reached, as versions that record the request and its
 * approvers. Approvals belong to one revision of the request: an edit, or any of its keys moving,
 * clears them (a request never applies on top of a value nobody reviewed), and the request says
 * so. Applying is claimed by a record written once (src/storage/requests.ts), so two admins
 * pressing Approve at the same moment apply it once; each change is written with
 * `expectedVersion`, and a process that dies while applying leaves the request `applying`,
 * resumed by `resume()`.
 */
export class ChangeRequests {
  private readonly book: RequestBook;

  constructor(conn: DbConnection, deps: RequestDeps) {
    this.book = new RequestBook(conn, deps);
  }

  async ensureIndexes(): Promise<void> {
    await this.book.records.ensureIndexes();
  }

  /** Called after every step of any request made or moved by this process. */
  subscribe(listener: RequestListener): () => void {
    return this.book.subscribe(listener);
  }

  // ---- reads -------------------------------------------------------------------------------

  get(input: string): Promise<ChangeRequest> {
    return this.book.get(input);
  }

  /** Newest first; `status` filters. */
  list(status?: RequestStatus, limit = 25): Promise<ChangeRequest[]> {
    return this.book.list(status, limit);
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
    await this.book.records.insert(this.book.seal(request));
    await this.book.audited(request, input.requester, 'request-create', 'success');
    this.book.tell(request, 'created');
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
    return this.book.records.claimPost(req.id, channelId, (post?.attempt ?? 0) + 1, now);
  }

  /** Records where the request was posted, showing its first `shown` steps. */
  async posted(id: string, post: { channelId: string; messageId: string; shown?: number }): Promise<void> {
    await this.book.records.posted(id, post);
  }

  /** Records that the post shows the first `shown` steps of the log (never moves back). */
  async markShown(id: string, shown: number): Promise<void> {
    await this.book.records.markShown(id, shown);
  }

  /**
   * Approves as `actor`. Refuses the requester, a second approval by the same admin, a request
   * that is no longer pending, and a request whose keys moved since it was made (its approvals are
   * cleared and it says so: the approver must look again). Applies at the quorum; returns the
   * request as it now is.
   */
  async approve(input: string, actor: Actor, ctx: RequestContext = {}): Promise<ChangeRequest> {
    const req = await pendingOrRefuse(this.book, input, actor, 'request-approve', ctx);
    if (req.requester.id === actor.id)
      return this.book.refuse(
        req,
        actor,
        'request-approve',
        ctx,
        'PERMISSION_DENIED',
        'You made this request: another admin must approve it.',
      );
    if (req.approvals.some((a) => a.actor.id === actor.id))
      return this.book.refuse(
        req,
        actor,
        'request-approve',
        ctx,
        'UNCHANGED',
        `You approved ${req.id} already.`,
      );
    const moved = await rebaseIfMoved(this.book, req, actor);
    // What moved the key may be this very request, applied meanwhile by another admin's approval:
    // then that is the answer, not "approvals cleared".
    if (moved && (await this.get(req.id)).status !== 'pending')
      return pendingOrRefuse(this.book, req.id, actor, 'request-approve', ctx);
    if (moved)
      return this.book.refuse(
        req,
        actor,
        'request-approve',
        ctx,
        'CONFLICT',
        `${moved}: its approvals were cleared. Look at ${req.id} again and approve it if it is still right.`,
        { to: 'view-request', id: req.id },
      );
    const at = new Date();
    // Two approvals at the same moment are both counted; one admin's twice is refused.
    if (
      !(await this.book.records.addApproval(req.id, req.rev, { actor, at }, { at, actor, text: 'approved' }))
    )
      return this.book.refuse(
        req,
        actor,
        'request-approve',
        ctx,
        'UNCHANGED',
        `You approved ${req.id} already.`,
      );
    await this.book.audited(req, actor, 'request-approve', 'success', ctx);
    const after = await this.get(req.id);
    this.book.tell(after, 'approved');
    if (after.status === 'pending' && after.rev === req.rev && after.approvals.length >= after.required)
      return applyNow(this.book, after);
    return after;
  }

  /** Rejects with a reason (required); the requester withdraws instead. */
  async reject(
    input: string,
    actor: Actor,
    reason: string,
    ctx: RequestContext = {},
  ): Promise<ChangeRequest> {
    const req = await pendingOrRefuse(this.book, input, actor, 'request-reject', ctx);
    const why = reason.trim();
    if (!why)
      return this.book.refuse(
        req,
        actor,
        'request-reject',
        ctx,
        'INVALID_VALUE',
        'A rejection needs a reason.',
      );
    if (why.length > 500)
      return this.book.refuse(
        req,
        actor,
        'request-reject',
        ctx,
        'TOO_LONG',
        'The reason is at most 500 characters.',
      );
    return this.book.close(req, actor, 'rejected', `rejected: ${why}`, 'request-reject', ctx, {
      rejectReason: why,
    });
  }

  /** The requester takes the request back. */
  async withdraw(input: string, actor: Actor, ctx: RequestContext = {}): Promise<ChangeRequest> {
    const req = await pendingOrRefuse(this.book, input, actor, 'request-withdraw', ctx);
    if (req.requester.id !== actor.id)
      return this.book.refuse(
        req,
        actor,
        'request-withdraw',
        ctx,
        'PERMISSION_DENIED',
        `Only ${req.requester.tag}, who made ${req.id}, can withdraw it; reject it instead.`,
      );
    return this.book.close(req, actor, 'withdrawn', 'withdrawn', 'request-withdraw', ctx);
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
    const req = await pendingOrRefuse(this.book, input, actor, 'request-edit', ctx);
    if (req.requester.id !== actor.id)
      return this.book.refuse(
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
    if (!(await this.book.revise(req, changes, actor, text)))
      return this.book.refuse(
        req,
        actor,
        'request-edit',
        ctx,
        'CONFLICT',
        `${req.id} changed while you edited it; look at it again.`,
      );
    await this.book.audited(req, actor, 'request-edit', 'success', ctx);
    const after = await this.get(req.id);
    this.book.tell(after, 'edited');
    return after;
  }

  /**
   * A key changed: every pending request with a change of that slot computed against an older
   * version loses its approvals and says so. Never throws.
   */
  keyMoved(key: string, scope: Scope): Promise<void> {
    return rebaseOnMove(this.book, key, scope);
  }

  /** Closes pending requests past their expiry. Returns the ones this call closed. */
  expire(now = new Date()): Promise<ChangeRequest[]> {
    return expireDue(this.book, now);
  }

  /** Finishes requests whose applying process stopped (a crash between two of their changes). */
  resume(now = new Date()): Promise<void> {
    return resumeStuck(this.book, now);
  }

  /**
   * Re-encrypts the sealed values of every request with the current key (key rotation); `reseal`
   * returns undefined for a value already on it. Returns how many values it rewrote.
   */
  reseal(reseal: (key: string, stored: unknown) => unknown): Promise<number> {
    return resealAll(this.book, reseal);
  }
}

/** `CR-` and five characters people can read aloud (no 0/O, 1/I). */
function newId(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(5);
  return `CR-${[...bytes].map((b) => alphabet[b % alphabet.length]).join('')}`;
}
