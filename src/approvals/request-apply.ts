import { UserError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import { SYSTEM_ACTOR, type Actor } from '../storage/config-models.js';
import type { RequestChange, RequestStatus } from '../storage/requests.js';
import type { ChangeRequest, RequestBook } from './request-book.js';

/** Claims the request for applying (once, however many approvers reached the quorum together). */
export async function applyNow(book: RequestBook, req: ChangeRequest): Promise<ChangeRequest> {
  const since = new Date();
  // Two approvers completing the quorum together both get here, and a reject or an expiry may
  // too: the closure record is written once, so exactly one of them closes the request. The
  // document follows (resume() finds it by that if this process dies).
  if (!(await book.records.close(req.id, 'applying', since, { applyingSince: since })))
    return book.get(req.id);
  return applyClaimed(book, { ...req, status: 'applying', applyingSince: since });
}

/** Applies every change of a request this process closed as applying that is not applied yet. */
export async function applyClaimed(book: RequestBook, req: ChangeRequest): Promise<ChangeRequest> {
  const approvers = req.approvals.map((a) => a.actor);
  const changes = [...req.changes];
  for (const [i, c] of changes.entries()) {
    if (c.appliedVersion !== undefined || c.outcome !== undefined) continue;
    let outcome: Pick<RequestChange, 'appliedVersion' | 'outcome'>;
    try {
      const r = await book.deps.apply(c, req, approvers);
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
    await book.records.setChange(req.id, i, book.sealChange(changes[i] as RequestChange));
  }
  const failed = changes.filter((c) => c.appliedVersion === undefined && c.outcome !== 'already that value');
  const status: RequestStatus = failed.length ? 'failed' : 'applied';
  const text = failed.length
    ? `applying finished with ${failed.length} change(s) not applied`
    : `applied (approved by ${approvers.map((a) => a.tag).join(', ')})`;
  await book.records.finish(req.id, status, { at: new Date(), actor: SYSTEM_ACTOR, text });
  const after = await book.get(req.id);
  await book.audited(after, SYSTEM_ACTOR, 'request-apply', failed.length ? 'failed' : 'success');
  book.tell(after, status);
  return after;
}

/**
 * If a slot of the request moved past the version it was computed against, clears the
 * approvals, takes the new versions as the base and logs why. Returns that why, or undefined.
 */
export async function rebaseIfMoved(
  book: RequestBook,
  req: ChangeRequest,
  actor: Actor,
): Promise<string | undefined> {
  const moved = req.changes
    .map((c) => ({ c, now: book.deps.heldVersion(c.key, c.scope) }))
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
    return m ? { ...c, baseVersion: m.now, before: book.deps.shown(c.key, c.scope) } : c;
  });
  const text = `${why}: ${req.approvals.length} approval(s) cleared`;
  if (await book.revise(req, changes, actor, text)) book.tell(await book.get(req.id), 'rebased');
  return why;
}
