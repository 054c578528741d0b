import type { FastifyInstance } from 'fastify';
import { UserError } from '../base/errors.js';
import type { RegisteredKey } from '../config/registry.js';
import { GLOBAL, type Scope } from '../config/scopes.js';
import type { ConfigService } from '../config/service.js';
import type { ConfigVersionDoc } from '../storage/config-models.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { ValueDiff, valueText } from './diff.js';
import { PanelRefusal } from './guard.js';
import { CsrfField, Page, Time } from './layout.js';
import { sendHtml, wantsFragment } from './render.js';
import type { PanelDeps } from './types.js';

/** Versions on one page of a key's history. */
const PAGE = 20;

/**
 * The scope a page is about: the one asked for (default global), checked against what the key
 * allows; a self-service session sees and changes only its own server's scope.
 */
export function pageScope(
  config: ConfigService,
  def: RegisteredKey,
  session: PanelSessionDoc,
  typed: unknown,
): Scope {
  const asked = typeof typed === 'string' && typed !== '' ? typed : (session.ownScope ?? null);
  const scope = config.scopeOf(def, asked);
  if (session.ownScope && scope !== session.ownScope)
    throw new PanelRefusal(403, `Your access covers ${def.key} at ${session.ownScope} only.`);
  return scope;
}

/** The address of a key's history at a scope, with more query fields. */
export function historyHref(key: string, scope: string, more: Record<string, string | number> = {}): string {
  const q = new URLSearchParams({ ...(scope !== GLOBAL ? { scope } : {}), ...stringsOf(more) });
  const text = q.toString();
  return `/panel/history/${encodeURIComponent(key)}${text ? `?${text}` : ''}`;
}

const stringsOf = (o: Record<string, string | number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));

/** The scopes a key's history can be looked at: global, its environments, and every override held. */
function scopesOf(
  config: ConfigService,
  def: RegisteredKey,
  session: PanelSessionDoc,
  scope: Scope,
): Scope[] {
  if (session.ownScope) return [scope];
  const all = new Set<Scope>([GLOBAL]);
  if (def.scopes.includes('env')) for (const e of config.environments) all.add(`env:${e}` as Scope);
  for (const s of config.overrideScopes(def.key)) all.add(s);
  all.add(scope);
  return [...all];
}

const positive = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : NaN;
  return n >= 1 ? n : undefined;
};

interface HistoryView {
  def: RegisteredKey;
  scope: Scope;
  scopes: Scope[];
  rows: ConfigVersionDoc[];
  /** The version just below the page (what its last row changed from), if any. */
  below: ConfigVersionDoc | undefined;
  newest: number;
  written?: number | undefined;
}

function HistoryRow({
  v,
  previous,
  view,
  canWrite,
  n,
}: {
  v: ConfigVersionDoc;
  previous: ConfigVersionDoc | undefined;
  view: HistoryView;
  canWrite: boolean;
  n: number;
}) {
  const { def } = view;
  return (
    <tr id={`v${v.version}`}>
      <td class="hd-pick" data-label="Compare">
        <div>
          <label>
            <input type="radio" form="compare" name="from" value={v.version} checked={n === 1} /> from
            <span class="hd-sr"> version {v.version}</span>
          </label>
          <label>
            <input type="radio" form="compare" name="to" value={v.version} checked={n === 0} /> to
            <span class="hd-sr"> version {v.version}</span>
          </label>
        </div>
      </td>
      <th scope="row">v{v.version}</th>
      <td class="hd-value" data-label="Value">
        <code>{valueText(def, v.value, 300)}</code>
        {previous && (
          <div class="hint">
            <ValueDiff def={def} before={previous.value} after={v.value} max={3} />
          </div>
        )}
      </td>
      <td data-label="Action">
        <div>
          {v.action}
          {v.restoredFrom !== undefined && <p class="hint">restores v{v.restoredFrom}</p>}
          {v.request && <p class="hint">request {v.request}</p>}
        </div>
      </td>
      <td data-label="Who">
        <span title={v.actor.id}>{v.actor.tag}</span>
      </td>
      <td data-label="When">
        <Time at={v.createdAt} />
      </td>
      <td class="hd-why" data-label="Why">
        {v.reason ?? <span class="hint">no reason given</span>}
      </td>
      {canWrite && (
        <td class="hd-act">
          {v.version !== view.newest && (
            <button type="submit" form="rollback" name="version" value={v.version} class="secondary">
              Roll back to v{v.version}
            </button>
          )}
        </td>
      )}
    </tr>
  );
}

export function HistoryPage({ view, session }: { view: HistoryView; session: PanelSessionDoc }) {
  const { def, scope, rows } = view;
  const canWrite = session.access === 'write';
  const top = rows[0]?.version ?? 0;
  const bottom = rows.at(-1)?.version ?? 0;
  const at = scope === GLOBAL ? '' : ` at ${scope}`;
  return (
    <Page title={`History of ${def.key}${at}`} session={session} current="/panel">
      <p class="hint">{def.description}</p>
      {view.written !== undefined && (
        <p class="card ok" role="status">
          Version {view.written} written.
        </p>
      )}
      <div class="hd-tools">
        <form class="filters" method="get" action={historyHref(def.key, GLOBAL)}>
          <label>
            Scope{' '}
            <select name="scope">
              {view.scopes.map((s) => (
                <option value={s} selected={s === scope}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Show</button>
        </form>
        {canWrite && (
          <form class="filters" method="post" action={`${historyHref(def.key, GLOBAL)}/reset`}>
            <CsrfField session={session} />
            <input type="hidden" name="scope" value={scope} />
            <button type="submit" class="secondary">
              {scope === GLOBAL ? 'Reset to the default…' : `Remove the override at ${scope}…`}
            </button>
          </form>
        )}
      </div>
      {rows.length === 0 ? (
        <p>{`${def.key}${at} has no versions yet.`}</p>
      ) : (
        <>
          <form
            id="compare"
            method="get"
            action={`${historyHref(def.key, GLOBAL)}/diff`}
            hx-get={`${historyHref(def.key, GLOBAL)}/diff`}
            hx-target="#diff-result"
          >
            <input type="hidden" name="scope" value={scope} />
          </form>
          {canWrite && (
            <form id="rollback" method="post" action={`${historyHref(def.key, GLOBAL)}/rollback`}>
              <CsrfField session={session} />
              <input type="hidden" name="scope" value={scope} />
            </form>
          )}
          <p class="hint">
            Versions {top}–{bottom} of {view.newest}, newest first. Pick a “from” and a “to” version to
            compare them.
          </p>
          <div class="scroll">
            <table class="hd-stack">
              <thead>
                <tr>
                  <th scope="col">Compare</th>
                  <th scope="col">Version</th>
                  <th scope="col">Value</th>
                  <th scope="col">Action</th>
                  <th scope="col">Who</th>
                  <th scope="col">When</th>
                  <th scope="col">Why</th>
                  {canWrite && <th scope="col">Way back</th>}
                </tr>
              </thead>
              <tbody>
                {rows.map((v, n) => (
                  <HistoryRow
                    v={v}
                    previous={rows[n + 1] ?? view.below}
                    view={view}
                    canWrite={canWrite}
                    n={n}
                  />
                ))}
              </tbody>
            </table>
          </div>
          <p>
            <button type="submit" form="compare">
              Compare
            </button>
          </p>
          <div id="diff-result" aria-live="polite" />
          <nav class="hd-pager" aria-label="Pages of versions">
            {top < view.newest && <a href={historyHref(def.key, scope, { after: top })}>Newer versions</a>}
            {bottom > 1 && <a href={historyHref(def.key, scope, { before: bottom })}>Older versions</a>}
          </nav>
        </>
      )}
    </Page>
  );
}

/** Version `n` of a key at a scope (masked when sensitive), or undefined. */
async function versionOf(
  config: ConfigService,
  def: RegisteredKey,
  scope: Scope,
  n: number,
): Promise<ConfigVersionDoc | undefined> {
  const [row] = await config.history(def.key, { scope, before: n + 1, limit: 1 });
  return row?.version === n ? row : undefined;
}

function DiffView({
  def,
  scope,
  from,
  to,
}: {
  def: RegisteredKey;
  scope: Scope;
  from: ConfigVersionDoc;
  to: ConfigVersionDoc;
}) {
  const between = to.version - from.version - 1;
  const about = (v: ConfigVersionDoc) => (
    <li>
      <a href={historyHref(def.key, scope, { before: v.version + 1 })}>v{v.version}</a>: {v.action} by{' '}
      {v.actor.tag}, <Time at={v.createdAt} />
      {v.reason && <> — {v.reason}</>}
    </li>
  );
  return (
    <section class="card hd-card" aria-labelledby="diff-title">
      <h2 id="diff-title">
        v{from.version} → v{to.version}
      </h2>
      <ul>
        {about(from)}
        {about(to)}
      </ul>
      {between > 0 && (
        <p class="hint">
          {between} version{between === 1 ? '' : 's'} in between, compared as a whole.
        </p>
      )}
      <div class="hd-diff">
        <ValueDiff def={def} before={from.value} after={to.value} />
      </div>
    </section>
  );
}

export function historyRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;
  app.get<{ Params: { key: string }; Querystring: Record<string, string | undefined> }>(
    '/panel/history/:key',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      const def = config.definition(req.params.key);
      const scope = pageScope(config, def, session, req.query.scope);
      const before = positive(req.query.before);
      const after = before === undefined ? positive(req.query.after) : undefined;
      const around = before !== undefined ? { before } : after !== undefined ? { after } : {};
      let rows = await config.history(def.key, { scope, limit: PAGE + 1, ...around });
      // Past the newest (it moved since): the newest page instead.
      if (rows.length === 0 && after !== undefined)
        rows = await config.history(def.key, { scope, limit: PAGE + 1 });
      // One more than shown: what the last row changed from. Paging newer, the extra one is on top.
      const extra = rows.length > PAGE ? (after !== undefined ? rows.shift() : rows.pop()) : undefined;
      const shown = rows;
      const last = shown.at(-1);
      const below =
        after !== undefined || !extra
          ? last && last.version > 1
            ? (await config.history(def.key, { scope, before: last.version, limit: 1 }))[0]
            : undefined
          : extra;
      const view: HistoryView = {
        def,
        scope,
        scopes: scopesOf(config, def, session, scope),
        rows: shown,
        below,
        newest: Math.max(config.cachedVersion(def.key, scope), shown[0]?.version ?? 0, extra?.version ?? 0),
        written: positive(req.query.written),
      };
      return sendHtml(reply, <HistoryPage view={view} session={session} />);
    },
  );

  app.get<{ Params: { key: string }; Querystring: Record<string, string | undefined> }>(
    '/panel/history/:key/diff',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      const def = config.definition(req.params.key);
      const scope = pageScope(config, def, session, req.query.scope);
      const a = positive(req.query.from);
      const b = positive(req.query.to);
      if (a === undefined || b === undefined || a === b)
        throw new UserError('INVALID_VALUE', 'Pick two different versions to compare.', { key: def.key });
      const [lo, hi] = a < b ? [a, b] : [b, a];
      const [from, to] = await Promise.all([
        versionOf(config, def, scope, lo),
        versionOf(config, def, scope, hi),
      ]);
      const missing = !from ? lo : !to ? hi : undefined;
      if (!from || !to)
        throw new UserError('VERSION_NOT_FOUND', `${def.key} has no version ${missing} at ${scope}.`, {
          key: def.key,
          scope,
        });
      const diff = <DiffView def={def} scope={scope} from={from} to={to} />;
      if (wantsFragment(req.headers)) return sendHtml(reply, diff, { fragment: true });
      const at = scope === GLOBAL ? '' : ` at ${scope}`;
      return sendHtml(
        reply,
        <Page title={`Diff of ${def.key}${at}`} session={session} current="/panel">
          {diff}
          <p>
            <a href={historyHref(def.key, scope)}>Back to the history of {def.key}</a>
          </p>
        </Page>,
      );
    },
  );
}
