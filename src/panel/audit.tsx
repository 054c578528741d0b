import type { FastifyInstance } from 'fastify';
import { UserError } from '../base/errors.js';
import type { ConfigService } from '../config/service.js';
import { AuditRows, type AuditFilter, type AuditPage } from '../storage/audit-rows.js';
import { VerifyForm } from './audit-verify.js';
import {
  AUDIT_ACTIONS,
  AUDIT_STATUSES,
  type AuditAction,
  type AuditStatus,
  type ConfigAuditDoc,
} from '../storage/config-models.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { ValueDiff } from './diff.js';
import { historyHref } from './history.js';
import { Page, Time } from './layout.js';
import { sendHtml } from './render.js';
import type { PanelDeps } from './types.js';

/** Rows on one page of the audit log. */
const PAGE = 50;

/** The filters of the audit page, as typed in its form (kept to redraw the form and the links). */
interface AuditQuery {
  key: string;
  actor: string;
  action: string;
  status: string;
  channel: string;
  scope: string;
  from: string;
  to: string;
}

const FIELDS = ['key', 'actor', 'action', 'status', 'channel', 'scope', 'from', 'to'] as const;

const text = (v: unknown, max = 100): string => (typeof v === 'string' ? v.trim().slice(0, max) : '');

/**
 * A time typed in the filter: a full ISO time, or `YYYY-MM-DDTHH:MM` from the browser's picker
 * (read as UTC, which the form says).
 */
function timeOf(v: string, name: string): Date | undefined {
  if (!v) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?$/.test(v) ? `${v}Z` : v;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime()))
    throw new UserError('INVALID_VALUE', `${name} is not a time: give it as 2026-01-31T14:00 (UTC).`);
  return d;
}

/** The page cursor `<ms>.<skip>` (see AuditRows.nextPage), or undefined. */
function pageOf(v: unknown): AuditPage | undefined {
  const m = typeof v === 'string' ? /^(\d{1,15})\.(\d{1,6})$/.exec(v) : null;
  return m ? { at: new Date(Number(m[1])), skip: Number(m[2]) } : undefined;
}

/** The store's filter for what was typed; a self-service session sees its own server's scope only. */
function filterOf(q: AuditQuery, session: PanelSessionDoc): AuditFilter {
  if (q.status && !(AUDIT_STATUSES as readonly string[]).includes(q.status))
    throw new UserError('INVALID_VALUE', `Status is one of ${AUDIT_STATUSES.join(', ')}.`);
  if (q.action && !(AUDIT_ACTIONS as readonly string[]).includes(q.action))
    throw new UserError('INVALID_VALUE', `${q.action} is not an action the audit log records.`);
  const since = timeOf(q.from, 'From');
  const until = timeOf(q.to, 'To');
  const scope = session.ownScope ?? q.scope;
  return {
    ...(q.key ? { key: q.key.includes(':') ? q.key : q.key.toUpperCase() } : {}),
    ...(q.actor ? { actor: q.actor } : {}),
    ...(q.action ? { action: q.action as AuditAction } : {}),
    ...(q.status ? { status: q.status as AuditStatus } : {}),
    ...(q.channel ? { channelId: q.channel } : {}),
    ...(scope ? { scope } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
}

function hrefOf(q: AuditQuery, page?: AuditPage): string {
  const p = new URLSearchParams();
  for (const f of FIELDS) if (q[f]) p.set(f, q[f]);
  if (page) p.set('page', `${page.at.getTime()}.${page.skip}`);
  const s = p.toString();
  return `/panel/audit${s ? `?${s}` : ''}`;
}

function AuditRow({ r, config }: { r: ConfigAuditDoc; config: ConfigService }) {
  const def = config.isRegistered(r.key) ? config.definition(r.key) : undefined;
  const scope = r.scope ?? 'global';
  const hasValues = r.oldValue !== undefined || r.newValue !== undefined;
  return (
    <tr class={`hd-status-${r.status}`}>
      <td data-label="When">
        <Time at={r.createdAt} />
        {r.attemptedAt && (
          <p class="hint">
            attempted <Time at={r.attemptedAt} /> (written late)
          </p>
        )}
      </td>
      <td data-label="Key">
        <div>
          {def ? <a href={historyHref(def.key, scope)}>{r.key}</a> : <code>{r.key}</code>}
          {r.version !== undefined && <span class="hint"> v{r.version}</span>}
          {scope !== 'global' && <p class="hint">{scope}</p>}
        </div>
      </td>
      <td data-label="Action">{r.action}</td>
      <td data-label="Status">
        <span class={`hd-badge hd-${r.status}`}>{r.status}</span>
      </td>
      <td data-label="Who">
        <span title={r.actor.id}>{r.actor.tag}</span>
      </td>
      <td data-label="Channel">{r.channelId ?? <span class="hint">none</span>}</td>
      <td class="hd-diff" data-label="Change or error">
        {hasValues ? (
          <ValueDiff def={def} before={r.oldValue} after={r.newValue} max={8} />
        ) : (
          <span class="hint">—</span>
        )}
        {r.error && <p class="error">{r.error}</p>}
      </td>
      <td class="hd-why" data-label="Why">
        {r.reason ?? ''}
      </td>
    </tr>
  );
}

export function AuditPageView({
  session,
  config,
  q,
  rows,
  next,
  paged,
}: {
  session: PanelSessionDoc;
  config: ConfigService;
  q: AuditQuery;
  rows: ConfigAuditDoc[];
  next: AuditPage | undefined;
  paged: boolean;
}) {
  const input = (name: (typeof FIELDS)[number], label: string, placeholder: string, list?: string) => (
    <label>
      {label} <input type="text" name={name} value={q[name]} placeholder={placeholder} list={list} />
    </label>
  );
  return (
    <Page title="Audit log" session={session} current="/panel/audit">
      <p class="hint">
        Every attempt across keys and flags, newest first: changes, refusals and failures.
        {session.ownScope && ` Only ${session.ownScope} is shown: your access covers that server.`}
      </p>
      {/* The chain holds every server's rows: its check is not for a session confined to one. */}
      {!session.ownScope && <VerifyForm q={{ from: '', to: '' }} />}
      <form class="filters hd-filters" method="get" action="/panel/audit" role="search">
        {input('key', 'Key', 'MAX_BATCH_SIZE or flag:name', 'audit-keys')}
        <datalist id="audit-keys">
          {config.keys().map((k) => (
            <option value={k} />
          ))}
        </datalist>
        {input('actor', 'Actor', 'User id or tag')}
        <label>
          Action{' '}
          <select name="action">
            <option value="">Any</option>
            {AUDIT_ACTIONS.map((a) => (
              <option value={a} selected={a === q.action}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select name="status">
            <option value="">Any</option>
            {AUDIT_STATUSES.map((s) => (
              <option value={s} selected={s === q.status}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {input('channel', 'Channel', 'panel, api or a channel id')}
        {!session.ownScope && input('scope', 'Scope', 'global, env:staging…')}
        <label>
          From (UTC) <input type="datetime-local" name="from" value={q.from} />
        </label>
        <label>
          To (UTC) <input type="datetime-local" name="to" value={q.to} />
        </label>
        <button type="submit">Filter</button>
        <a href="/panel/audit">Clear</a>
      </form>
      {rows.length === 0 ? (
        <p>No attempt matches{paged ? ' past this point' : ''}.</p>
      ) : (
        <div class="scroll">
          <table class="hd-audit hd-stack">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Key</th>
                <th scope="col">Action</th>
                <th scope="col">Status</th>
                <th scope="col">Who</th>
                <th scope="col">Channel</th>
                <th scope="col">Change or error</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <AuditRow r={r} config={config} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="hd-pager" aria-label="Pages of the audit log">
        {paged && <a href={hrefOf(q)}>Newest</a>}
        {next && (
          <a href={hrefOf(q, next)} rel="next">
            Older
          </a>
        )}
      </nav>
    </Page>
  );
}

export function auditRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/panel/audit',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      const q = Object.fromEntries(FIELDS.map((f) => [f, text(req.query[f])])) as unknown as AuditQuery;
      const after = pageOf(req.query.page);
      // One more than shown says whether there is an older page.
      const found = await config.auditLog({
        ...filterOf(q, session),
        ...(after ? { after } : {}),
        limit: PAGE + 1,
      });
      const rows = found.slice(0, PAGE);
      const next = found.length > PAGE ? AuditRows.nextPage(rows, after) : undefined;
      return sendHtml(
        reply,
        <AuditPageView
          session={session}
          config={config}
          q={q}
          rows={rows}
          next={next}
          paged={after !== undefined}
        />,
      );
    },
  );
}
