import { editable } from '../approvals/request-edit.js';
import type { ChangeRequest, RequestChange, RequestStatus } from '../approvals/requests.js';
import { MASK } from '../config/present.js';
import type { RegisteredKey } from '../config/registry.js';
import { MAX_VALUE_LENGTH } from '../config/validate.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { CsrfField, Time } from './layout.js';

// How a change request looks in the panel: what it changes (a diff, masked when sensitive), where
// it stands, who asked and approved, its impact and log, and the steps this viewer may take.

const STATUS_LABEL: Record<RequestStatus, string> = {
  pending: 'Pending',
  applying: 'Applying',
  applied: 'Applied',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
  expired: 'Expired',
  failed: 'Failed',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A span of time as people say it: `5 min`, `3 h`, `2 days`. */
function span(ms: number): string {
  const min = Math.round(Math.abs(ms) / 60_000);
  if (min < 1) return 'less than a minute';
  if (min < 60) return `${min} min`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h`;
  return plural(Math.round(h / 24), 'day');
}

/** One sentence saying where the request stands. */
function statusText(r: ChangeRequest, now = Date.now()): string {
  switch (r.status) {
    case 'pending': {
      if (r.expiresAt.getTime() <= now) return 'Expired without enough approvals; nothing was changed.';
      const missing = r.required - r.approvals.length;
      return missing > 0
        ? `Waiting for ${plural(missing, 'more approval')} from an admin other than the requester.`
        : 'Approved: applying now.';
    }
    case 'applying':
      return 'Applying the approved changes.';
    case 'applied': {
      const versions = r.changes
        .filter((c) => c.appliedVersion !== undefined)
        .map((c) => `v${c.appliedVersion}`);
      return versions.length ? `Applied as ${versions.join(', ')}.` : 'Applied.';
    }
    case 'rejected':
      return `Rejected by ${r.decidedBy?.tag ?? 'an admin'}: ${r.rejectReason ?? ''}`;
    case 'withdrawn':
      return 'Withdrawn by the requester.';
    case 'expired':
      return 'Expired without enough approvals; nothing was changed.';
    case 'failed':
      return `Failed: ${plural(r.changes.filter((c) => c.appliedVersion === undefined).length, 'change')} not applied (see below).`;
  }
}

/** `1 of 2: bob`. */
function approvalsText(r: ChangeRequest): string {
  const count = `${r.approvals.length} of ${r.required}`;
  return r.approvals.length ? `${count}: ${r.approvals.map((a) => a.actor.tag).join(', ')}` : count;
}

/** The viewer's session and what the panel knows of the keys (to mask sensitive values). */
export interface CardContext {
  session: PanelSessionDoc;
  definition(key: string): RegisteredKey | undefined;
  now: number;
}

/** Why this viewer cannot approve `r`, or undefined when they can. */
export function approveBlocked(r: ChangeRequest, s: PanelSessionDoc): string | undefined {
  return (
    writeBlocked(s) ??
    (r.requester.id === s.user.id
      ? 'You made this request: another admin must approve it.'
      : r.approvals.some((a) => a.actor.id === s.user.id)
        ? 'You approved it already: it needs another admin now.'
        : undefined)
  );
}

/** Why this session cannot take any step on a request, or undefined. */
export function writeBlocked(s: PanelSessionDoc): string | undefined {
  if (s.access !== 'write') return 'Your login is read only: it cannot approve or reject requests.';
  if (s.ownScope)
    return "Your login manages your own server's keys only: change requests are decided by the bot's admins.";
  return undefined;
}

function Change({ c, ctx }: { c: RequestChange; ctx: CardContext }) {
  // Stored display text is masked already when the key is sensitive; masked again here in case a
  // key became sensitive after the request was made.
  const sensitive = ctx.definition(c.key)?.sensitive === true;
  const before = sensitive && c.before !== '(none)' ? MASK : c.before;
  const after = sensitive ? MASK : c.after;
  return (
    <li class="rq-change">
      <p class="rq-where">
        <code>{c.key}</code> at <code>{c.scope}</code>{' '}
        <span class="hint">
          ({c.action}, against v{c.baseVersion})
        </span>
      </p>
      <div class="rq-diff" role="group" aria-label={`${c.key}: from ${before} to ${after}`}>
        <del>
          <span aria-hidden="true">− </span>
          <code>{before}</code>
        </del>
        <ins>
          <span aria-hidden="true">+ </span>
          <code>{after}</code>
        </ins>
      </div>
      {c.warnings?.map((w) => (
        <p class="warn">Warning: {w}</p>
      ))}
      {c.outcome && <p class="hint">Outcome: {c.outcome}</p>}
    </li>
  );
}

/** Everything about one request; `open` shows its impact and log unfolded. */
export function RequestCard({
  r,
  ctx,
  open,
  error,
  notice,
}: {
  r: ChangeRequest;
  ctx: CardContext;
  open: boolean;
  error?: preact.ComponentChildren;
  notice?: string | undefined;
}) {
  const pending = r.status === 'pending' && r.expiresAt.getTime() > ctx.now;
  const shown = pending ? 'pending' : r.status === 'pending' ? 'expired' : r.status;
  const first = r.changes[0];
  const what = first
    ? `${first.key}${r.changes.length > 1 ? ` and ${r.changes.length - 1} more` : ''}`
    : 'no change';
  const src = `/panel/requests/${r.id}/card${open ? '?open=1' : ''}`;
  // While a request is being applied, its card asks again in a second: the end of an application
  // is no change of a key, so the live stream (which refreshes the card when its key changes,
  // possibly mid-application) does not bring it.
  const settling =
    r.status === 'applying' ? { 'hx-get': src, 'hx-trigger': 'load delay:1s', 'hx-swap': 'outerHTML' } : {};
  return (
    <article
      class="card rq"
      id={r.id}
      aria-labelledby={`${r.id}-title`}
      data-live-key={first?.key}
      data-live-src={src}
      {...settling}
    >
      <header class="rq-head">
        <h2 id={`${r.id}-title`}>
          <a href={`/panel/requests/${r.id}`}>{r.id}</a> · {r.kind} of {what}
        </h2>
        <span class={`rq-badge rq-${shown}`}>{STATUS_LABEL[shown]}</span>
        <span class="rq-badge">{r.level} impact</span>
      </header>
      {notice && (
        <p class="ok" role="status">
          {notice}
        </p>
      )}
      <p class="rq-status">{statusText(r, ctx.now)}</p>
      <dl class="rq-facts">
        <div>
          <dt>Requested by</dt>
          <dd>
            {r.requester.tag}, <Time at={r.createdAt} /> ({span(ctx.now - r.createdAt.getTime())} ago)
          </dd>
        </div>
        <div>
          <dt>Approvals</dt>
          <dd>{approvalsText(r)}</dd>
        </div>
        <div>
          <dt>
            {pending
              ? 'Expires'
              : r.status === 'pending' || r.status === 'expired'
                ? 'Expired'
                : 'Expiry was'}
          </dt>
          <dd>
            <Time at={r.expiresAt} />
            {pending && ` (in ${span(r.expiresAt.getTime() - ctx.now)})`}
          </dd>
        </div>
        {r.reason && (
          <div>
            <dt>Reason</dt>
            <dd>{r.reason}</dd>
          </div>
        )}
      </dl>
      <h3 class="rq-sub">{r.changes.length === 1 ? 'Change' : `Changes (${r.changes.length})`}</h3>
      <ul class="rq-changes">
        {r.changes.map((c) => (
          <Change c={c} ctx={ctx} />
        ))}
      </ul>
      {r.preview.length > 0 && (
        <details open={open}>
          <summary>Impact</summary>
          <ul>
            {r.preview.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        </details>
      )}
      <details open={open}>
        <summary>
          Log ({plural(r.log.length, 'step')}, revision {r.rev})
        </summary>
        <ol class="rq-log">
          {r.log.map((l) => (
            <li>
              <Time at={l.at} /> {l.actor.tag}: {l.text}
            </li>
          ))}
        </ol>
      </details>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {pending && <Actions r={r} ctx={ctx} open={open} />}
    </article>
  );
}

/** The steps this viewer may take, and the ones they may not, disabled with why. */
function Actions({ r, ctx, open }: { r: ChangeRequest; ctx: CardContext; open: boolean }) {
  const { session } = ctx;
  const base = `/panel/requests/${r.id}`;
  // Plain forms first; with htmx, the step answers with this card, which replaces the old one.
  const step = (name: string) => ({
    method: 'post',
    action: `${base}/${name}`,
    'hx-post': `${base}/${name}${open ? '?open=1' : ''}`,
    'hx-target': 'closest article',
    'hx-swap': 'outerHTML',
  });
  const blocked = approveBlocked(r, session);
  const cannotWrite = writeBlocked(session);
  const own = r.requester.id === session.user.id;
  const first = r.changes[0];
  const secret = first ? ctx.definition(first.key)?.sensitive === true : false;
  return (
    <div class="rq-actions">
      <form {...step('approve')}>
        <CsrfField session={session} />
        <button
          type="submit"
          disabled={blocked !== undefined}
          aria-describedby={blocked ? `${r.id}-approve-why` : undefined}
        >
          Approve
        </button>
        {blocked && (
          <p class="hint" id={`${r.id}-approve-why`}>
            {blocked}
          </p>
        )}
      </form>
      {!own && (
        <form {...step('reject')} class="rq-form">
          <CsrfField session={session} />
          <label for={`${r.id}-reason`}>Reason for rejecting (the requester sees it)</label>
          <textarea
            id={`${r.id}-reason`}
            name="reason"
            rows={2}
            maxLength={500}
            required
            disabled={cannotWrite !== undefined}
          />
          <button
            type="submit"
            class="danger"
            disabled={cannotWrite !== undefined}
            aria-describedby={cannotWrite ? `${r.id}-approve-why` : undefined}
          >
            Reject
          </button>
        </form>
      )}
      {own && !cannotWrite && editable(r) && first && (
        <form {...step('edit')} class="rq-form">
          <CsrfField session={session} />
          <label for={`${r.id}-value`}>New value for {first.key}</label>
          {secret ? (
            <input
              id={`${r.id}-value`}
              name="value"
              type="password"
              required
              maxLength={MAX_VALUE_LENGTH}
              autocomplete="off"
            />
          ) : (
            <input
              id={`${r.id}-value`}
              name="value"
              required
              maxLength={MAX_VALUE_LENGTH}
              autocomplete="off"
              placeholder={`Now proposed: ${first.after}`}
            />
          )}
          <p class="hint" id={`${r.id}-edit-hint`}>
            Editing clears the approvals it has: approvers look again.
          </p>
          <button type="submit" class="secondary" aria-describedby={`${r.id}-edit-hint`}>
            Propose this value
          </button>
        </form>
      )}
      {own && !cannotWrite && (
        <form {...step('withdraw')}>
          <CsrfField session={session} />
          <button type="submit" class="secondary">
            Withdraw
          </button>
        </form>
      )}
    </div>
  );
}
