import { errorDetail, logger } from '../base/logger.js';
import { SYSTEM_ACTOR } from '../storage/config-models.js';
import { applyClaimed, applyNow, rebaseIfMoved } from './request-apply.js';
import type { ChangeRequest, RequestBook } from './request-book.js';
import type { Scope } from '../config/scopes.js';
import type { RequestContext } from '../config/types.js';
import type { Actor } from '../storage/config-models.js';

// The steps of change requests that no person takes (rebasing when a key moves, expiring,
// resuming an apply whose process stopped, re-sealing values for a new key), and the check every
// person's step starts with.

/** Applying that has not finished after this long is taken over by resume(). */
export const STALE_APPLYING_MS = 60_000;

/**
 * A key changed: every pending request with a change of that slot computed against an older
 * version loses its approvals and says so. Never throws.
 */
export async function rebaseOnMove(book: RequestBook, key: string, scope: Scope): Promise<void> {
  try {
    for (const doc of await book.records.pending()) {
      const req = book.open(doc);
      if (!req.changes.some((c) => c.key === key && c.scope === scope)) continue;
      await rebaseIfMoved(book, req, SYSTEM_ACTOR);
    }
  } catch (err) {
    logger.warn(`Could not check change requests after ${key} changed`, errorDetail(err));
  }
}

/** Closes pending requests past their expiry. Returns the ones this call closed. */
export async function expireDue(book: RequestBook, now: Date): Promise<ChangeRequest[]> {
  const closed: ChangeRequest[] = [];
  for (const doc of await book.records.expired(now)) {
    const req = book.open(doc);
    const done = await book.transition(req, 'expired', SYSTEM_ACTOR, 'expired unapproved');
    if (done) {
      await book.audited(req, SYSTEM_ACTOR, 'request-expire', 'success');
      closed.push(done);
    }
  }
  return closed;
}

/**
 * Finishes requests whose applying process stopped (a crash between two of their changes), and
 * applies those whose approving process stopped between recording the approval that completed
 * the quorum and claiming the request for applying: nobody else would (the approver's second try
 * is refused as "already approved"). Both only once left alone for STALE_APPLYING_MS.
 */
export async function resumeStuck(book: RequestBook, now: Date): Promise<void> {
  const stale = now.getTime() - STALE_APPLYING_MS;
  for (const doc of await book.records.pending()) {
    // Approvals and the status as their records decide them (the document may lag them).
    const req = await book.get(doc._id);
    if (req.status !== 'pending') continue;
    const last = Math.max(0, ...req.approvals.map((a) => new Date(a.at).getTime()));
    if (req.approvals.length >= req.required && last < stale && req.expiresAt.getTime() > now.getTime())
      await applyNow(book, req);
  }
  for (const doc of await book.records.applyingSince(new Date(stale))) {
    // The document may lag its closure record: only a request still applying is taken over.
    const req = await book.get(doc._id);
    if (req.status !== 'applying') continue;
    if (await book.records.takeOver(req.id, doc.applyingSince, now))
      await applyClaimed(book, { ...req, applyingSince: now });
  }
}

/**
 * Re-encrypts the sealed values of every request with the current key (key rotation); `reseal`
 * returns undefined for a value already on it. Returns how many values it rewrote.
 */
export async function resealAll(
  book: RequestBook,
  reseal: (key: string, stored: unknown) => unknown,
): Promise<number> {
  let count = 0;
  for (const doc of await book.records.all()) {
    let changed = false;
    const changes = doc.changes.map((c) => {
      if (c.value === undefined) return c;
      const next = reseal(c.key, c.value);
      if (next === undefined) return c;
      changed = true;
      count++;
      return { ...c, value: next };
    });
    if (changed) await book.records.setChanges(doc._id, changes);
  }
  return count;
}

/** The request `input` names if it is still pending; refuses (audited) otherwise, expiring it when overdue. */
export async function pendingOrRefuse(
  book: RequestBook,
  input: string,
  actor: Actor,
  action: string,
  ctx: RequestContext,
): Promise<ChangeRequest> {
  const req = await book.get(input);
  if (req.status === 'pending' && req.expiresAt.getTime() <= Date.now()) {
    await expireDue(book, new Date());
    return book.refuse(
      req,
      actor,
      action,
      ctx,
      'CONFLICT',
      `${req.id} expired ${req.expiresAt.toISOString()}; make a new request.`,
    );
  }
  if (req.status !== 'pending')
    return book.refuse(
      req,
      actor,
      action,
      ctx,
      'CONFLICT',
      `${req.id} is ${req.status}; nothing was changed.`,
    );
  return req;
}
