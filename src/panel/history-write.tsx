import type { FastifyInstance } from 'fastify';
import { UserError } from '../base/errors.js';
import { impactOf, type Impact } from '../approvals/impact.js';
import type { RegisteredKey } from '../config/registry.js';
import { GLOBAL, type Scope } from '../config/scopes.js';
import type { Preview, RequestContext } from '../config/types.js';
import { MAX_REASON_LENGTH } from '../config/validate.js';
import type { AuditAction } from '../storage/config-models.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { historyHref, pageScope } from './history.js';
import { CsrfField, Page } from './layout.js';
import { ImpactList } from './impact.js';
import { sendHtml } from './render.js';
import type { PanelDeps } from './types.js';

// Rollback and reset from a key's history: a preview with its impact (nothing written), then
// Confirm, which writes through the same service calls as Discord, guarded by the version the
// preview was computed from. Every attempt is counted with the bot's limits and audited with
// channel `panel`.

type Body = Record<string, string | undefined>;

/** Where panel writes say they came from in the audit log. */
const contextOf = (s: PanelSessionDoc): RequestContext => ({
  ...(s.guildId ? { guildId: s.guildId } : {}),
  channelId: 'panel',
});

const numberField = (body: Body, name: string, what: string): number => {
  const text = body[name] ?? '';
  if (!/^\d{1,9}$/.test(text))
    throw new UserError(
      'INVALID_VALUE',
      `${what} is missing or not a whole number; reload the history and try again.`,
    );
  return Number(text);
};

const reasonOf = (body: Body): string | undefined => {
  const r = body.reason?.trim();
  return r ? r : undefined;
};

/**
 * Runs one write attempt of a session: a self-service admin only on keys its server manages
 * itself; counted with the bot's per-user limits (a refusal of either is audited as denied); a
 * committed change counted as one.
 */
async function attempt<T>(
  deps: PanelDeps,
  session: PanelSessionDoc,
  a: { def: RegisteredKey; action: AuditAction; scope: Scope },
  run: () => Promise<T>,
  commits: boolean,
): Promise<T> {
  const denied = async (err: UserError): Promise<never> => {
    await deps.config.audit.record({
      key: a.def.key,
      ...(a.scope !== GLOBAL ? { scope: a.scope } : {}),
      action: a.action,
      status: 'denied',
      actor: session.user,
      ...contextOf(session),
      error: err.detail ?? err.message,
    });
    throw err;
  };
  if (session.ownScope && !(a.def.guildSelfService && a.def.scopes.includes('guild')))
    await denied(
      new UserError(
        'PERMISSION_DENIED',
        `${a.def.key} is not one your server manages itself.`,
        { key: a.def.key },
        `self-service session of ${session.ownScope} on ${a.def.key}`,
      ),
    );
  let ticket: { settle(): Promise<void> };
  try {
    ticket = await deps.limits.checkAttempt(session.user.id, { key: a.def.key, action: a.action });
  } catch (err) {
    if (err instanceof UserError && err.code === 'RATE_LIMITED') return denied(err);
    throw err;
  }
  try {
    const result = await run();
    if (commits) await deps.limits.recordChange(session.user.id);
    return result;
  } finally {
    await ticket.settle();
  }
}

/** The confirmation page of a rollback or reset: what changes, its impact, then Confirm. */
function ConfirmPage({
  session,
  def,
  preview,
  impact,
  toVersion,
}: {
  session: PanelSessionDoc;
  def: RegisteredKey;
  preview: Preview;
  impact: Impact;
  toVersion?: number;
}) {
  const { scope } = preview;
  const at = scope === GLOBAL ? '' : ` at ${scope}`;
  const title =
    toVersion !== undefined
      ? `Roll back ${def.key}${at} to version ${toVersion}?`
      : preview.action === 'unset'
        ? `Remove the override of ${def.key} at ${scope}?`
        : `Reset ${def.key} to its default?`;
  const target = toVersion !== undefined ? 'rollback' : 'reset';
  const wayBack =
    preview.currentVersion > 0 && preview.current !== '(no override)'
      ? `Roll back to version ${preview.currentVersion} from the history of ${def.key}${at}.`
      : `Reset ${def.key}${at} from its history (removes the override).`;
  return (
    <Page title={title} session={session} current="/panel">
      <section class="card hd-card" aria-labelledby="change">
        <h2 id="change">What changes</h2>
        <p>
          Now (v{preview.currentVersion}): <code>{preview.current}</code>
          <br />
          Then: <code>{preview.next}</code>
        </p>
        {preview.warnings.map((w) => (
          <p class="warn">Warning: {w}</p>
        ))}
        <ImpactList impact={impact} wayBack={false} />
        <p class="hint">Way back: {wayBack}</p>
      </section>
      <p>Nothing has changed yet.</p>
      <form method="post" action={`${historyHref(def.key, GLOBAL)}/${target}/confirm`} class="hd-confirm">
        <CsrfField session={session} />
        <input type="hidden" name="scope" value={scope} />
        <input type="hidden" name="expected" value={preview.currentVersion} />
        {toVersion !== undefined && <input type="hidden" name="version" value={toVersion} />}
        <label>
          Why (kept in the history and the audit log)
          <textarea name="reason" rows={2} maxlength={MAX_REASON_LENGTH} />
        </label>
        <p>
          <button type="submit">Confirm</button> <a href={historyHref(def.key, scope)}>Cancel</a>
        </p>
      </form>
    </Page>
  );
}

export function historyWriteRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;
  const impactFor = (preview: Preview) =>
    impactOf({ config, scheduler: deps.scheduler, instances: deps.instances }, preview);
  const route = { config: { access: 'public', panel: 'write' } } as const;
  type Req = { Params: { key: string }; Body: Body };

  app.post<Req>('/panel/history/:key/rollback', route, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    const def = config.definition(req.params.key);
    const scope = pageScope(config, def, session, req.body.scope);
    const toVersion = numberField(req.body, 'version', 'The version to roll back to');
    const preview = await attempt(
      deps,
      session,
      { def, action: 'rollback', scope },
      () =>
        config.previewRollback(def.key, toVersion, session.user, undefined, contextOf(session), { scope }),
      false,
    );
    const impact = await impactFor(preview);
    return sendHtml(
      reply,
      <ConfirmPage session={session} def={def} preview={preview} impact={impact} toVersion={toVersion} />,
    );
  });

  app.post<Req>('/panel/history/:key/rollback/confirm', route, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    const def = config.definition(req.params.key);
    const scope = pageScope(config, def, session, req.body.scope);
    const toVersion = numberField(req.body, 'version', 'The version to roll back to');
    const expectedVersion = numberField(req.body, 'expected', 'The version the preview was made from');
    const done = await attempt(
      deps,
      session,
      { def, action: 'rollback', scope },
      () =>
        config.rollback(def.key, toVersion, session.user, reasonOf(req.body), contextOf(session), {
          scope,
          expectedVersion,
        }),
      true,
    );
    return reply.redirect(historyHref(def.key, scope, { written: done.version }), 303);
  });

  app.post<Req>('/panel/history/:key/reset', route, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    const def = config.definition(req.params.key);
    const scope = pageScope(config, def, session, req.body.scope);
    const preview = await attempt(
      deps,
      session,
      { def, action: 'reset', scope },
      () => config.previewReset(def.key, session.user, undefined, contextOf(session), { scope }),
      false,
    );
    const impact = await impactFor(preview);
    return sendHtml(reply, <ConfirmPage session={session} def={def} preview={preview} impact={impact} />);
  });

  app.post<Req>('/panel/history/:key/reset/confirm', route, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    const def = config.definition(req.params.key);
    const scope = pageScope(config, def, session, req.body.scope);
    const expectedVersion = numberField(req.body, 'expected', 'The version the preview was made from');
    const done = await attempt(
      deps,
      session,
      { def, action: 'reset', scope },
      () =>
        config.reset(def.key, session.user, reasonOf(req.body), contextOf(session), {
          scope,
          expectedVersion,
        }),
      true,
    );
    return reply.redirect(historyHref(def.key, scope, { written: done.version }), 303);
  });
}
