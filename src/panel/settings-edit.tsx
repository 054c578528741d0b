import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { impactOf } from '../approvals/impact.js';
import { ApprovalRequired } from '../approvals/gate.js';
import { isUserError, UserError } from '../base/errors.js';
import { present } from '../config/present.js';
import type { RegisteredKey } from '../config/registry.js';
import { parseAt, parseFor } from '../config/when.js';
import type { AuditAction } from '../storage/config-models.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { Page } from './layout.js';
import { sendHtml, wantsFragment } from './render.js';
import {
  actorOf,
  contextOf,
  formDigest,
  formOf,
  needsConfirmation,
  writeScope,
  type EditForm,
} from './settings-form.js';
import { ApprovalView, PreviewView, ScheduledView, WrittenView, type Timing } from './settings-preview.js';
import { pendingOf, rowData, SettingRow, SettingsTable, type RowExtra } from './settings-row.js';
import type { PanelDeps } from './types.js';

type KeyRequest = FastifyRequest<{ Params: { key: string } }>;

/**
 * Editing a key in the panel, as /config set does in Discord: Preview (the dry run and its
 * impact), then Apply (the set, or the scheduled change, guarded by the previewed version);
 * pending changes with Cancel; and each row on its own, for live updates. Every attempt is
 * counted with the bot's write limits and audited by the service on channel `panel`.
 */
export function settingsEditRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;
  const write = { access: 'public', panel: 'write' } as const;

  app.get<{ Params: { key: string } }>(
    '/panel/settings/:key/row',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const session = sessionOf(req);
      const data = rowData(config, session, req.params.key, await pendingOf(config, req.params.key));
      return sendHtml(reply, <SettingRow data={data} />, { fragment: true });
    },
  );

  app.post<{ Params: { key: string } }>(
    '/panel/settings/:key/preview',
    { config: write },
    async (req, reply) => {
      const session = sessionOf(req);
      const def = config.definition(req.params.key);
      const form = formOf(req.body);
      const out = await attempt(deps, session, def, form, 'set', async (scope) => {
        const timing = await timingOf(deps, session, def, form);
        const preview = await config.previewSet(
          def.key,
          form.value,
          actorOf(session),
          form.reason || undefined,
          contextOf(session),
          { scope },
        );
        const impact = await impactOf(
          { config, scheduler: deps.scheduler, instances: deps.instances },
          preview,
        );
        const confirm = needsConfirmation(def, preview.scope, config)
          ? def.impact === 'high' || def.impact === 'critical'
            ? `${def.key} is ${def.impact} impact: I have checked this change.`
            : 'This changes production: I have checked this change.'
          : undefined;
        return (
          <PreviewView
            impact={impact}
            timing={timing}
            timeZone={String(config.get('SCHEDULE_TIMEZONE'))}
            expectedVersion={preview.currentVersion}
            digest={formDigest(form, session)}
            confirm={confirm}
          />
        );
      });
      return answer(req, reply, deps, { out, form, status: 200 });
    },
  );

  app.post<{ Params: { key: string } }>(
    '/panel/settings/:key/apply',
    { config: write },
    async (req, reply) => {
      const session = sessionOf(req);
      const def = config.definition(req.params.key);
      const form = formOf(req.body);
      let status = 200;
      const out = await attempt(deps, session, def, form, 'set', async (scope) => {
        const refuse = (message: string, code?: 'INVALID_VALUE') =>
          failed(deps, session, def, form.atText ? 'schedule' : 'set', message, code);
        if (form.expectedVersion === undefined || form.digest !== formDigest(form, session))
          await refuse('The form changed after its preview: preview it again, then apply.');
        if (needsConfirmation(def, config.scopeOf(def, scope), config) && !form.confirmed)
          await refuse(
            'This change needs your confirmation (production or high impact): tick the box, then apply.',
            'INVALID_VALUE',
          );
        const timing = await timingOf(deps, session, def, form);
        const reason = form.reason || undefined;
        try {
          if (timing.at) {
            if (config.cachedVersion(def.key, config.scopeOf(def, scope)) !== form.expectedVersion)
              await refuse(`${def.key} changed since the preview: preview it again, then apply.`);
            const planned = await config.timed.schedule(
              def.key,
              form.value,
              timing.at,
              actorOf(session),
              reason,
              contextOf(session),
              { scope, ...(timing.forMs !== undefined ? { forMs: timing.forMs } : {}) },
            );
            return <ScheduledView planned={planned} />;
          }
          const result = await config.set(def.key, form.value, actorOf(session), reason, contextOf(session), {
            scope,
            ...(timing.forMs !== undefined ? { forMs: timing.forMs } : {}),
            ...(form.expectedVersion !== undefined ? { expectedVersion: form.expectedVersion } : {}),
          });
          await deps.limits.recordChange(session.user.id);
          return (
            <WrittenView result={result} shown={present(def, result.value)} restart={def.requiresRestart} />
          );
        } catch (err) {
          // Not a refusal: the change became a change request, which approvers now see.
          if (!(err instanceof ApprovalRequired)) throw err;
          status = 202;
          return <ApprovalView request={err.request} message={err.message} />;
        }
      });
      return answer(req, reply, deps, { out, status, open: true, whole: true });
    },
  );

  app.post<{ Params: { key: string; id: string } }>(
    '/panel/settings/:key/pending/:id/cancel',
    { config: write },
    async (req, reply) => {
      const session = sessionOf(req);
      const def = config.definition(req.params.key);
      if (session.ownScope)
        await denied(
          deps,
          session,
          def.key,
          'cancel',
          new UserError(
            'PERMISSION_DENIED',
            'Cancelling pending changes is for the configuration admins, not for a server of its own.',
            { key: def.key, action: 'cancel' },
          ),
        );
      const pending = await config.timed.pending(def.key);
      if (!pending.some((d) => d._id === req.params.id))
        throw new UserError('VERSION_NOT_FOUND', 'That change is no longer pending; nothing was cancelled.', {
          key: def.key,
        });
      await config.timed.cancel(req.params.id, actorOf(session), contextOf(session));
      return answer(req, reply, deps, { status: 200, whole: true });
    },
  );
}

function sessionOf(req: FastifyRequest): PanelSessionDoc {
  // The panel's hook set it: these routes require a session.
  return req.panelSession as PanelSessionDoc;
}

/**
 * One write attempt: the scope re-checked for the session (a refusal audited as denied), then
 * counted with the bot's write limits (a refusal audited as denied, its message shown), then
 * run; the change the attempt reserved is given back unless it made one.
 */
async function attempt(
  deps: PanelDeps,
  session: PanelSessionDoc,
  def: RegisteredKey,
  form: EditForm,
  action: AuditAction,
  run: (scope: string) => Promise<ComponentChildren>,
): Promise<ComponentChildren> {
  let scope = '';
  try {
    scope = writeScope(def, session, form.scope, action);
  } catch (err) {
    return denied(deps, session, def.key, action, err);
  }
  let ticket: { settle(): Promise<void> };
  try {
    ticket = await deps.limits.checkAttempt(session.user.id, { key: def.key, action });
  } catch (err) {
    return denied(deps, session, def.key, action, err);
  }
  try {
    return await run(scope);
  } finally {
    await ticket.settle();
  }
}

/** Audits a refusal made here (access, rate limit) as denied on channel `panel`, and throws it. */
async function denied(
  deps: PanelDeps,
  session: PanelSessionDoc,
  key: string,
  action: AuditAction,
  err: unknown,
): Promise<never> {
  if (isUserError(err) && (err.code === 'PERMISSION_DENIED' || err.code === 'RATE_LIMITED'))
    await deps.config.audit.record({
      key,
      action,
      status: 'denied',
      actor: actorOf(session),
      error: err.detail ?? err.message,
      ...contextOf(session),
    });
  throw err;
}

/** Audits a refusal made here before the service was asked (a stale form, no confirmation), and throws it. */
async function failed(
  deps: PanelDeps,
  session: PanelSessionDoc,
  def: RegisteredKey,
  action: AuditAction,
  message: string,
  code: 'CONFLICT' | 'INVALID_VALUE' = 'CONFLICT',
): Promise<never> {
  await deps.config.audit.record({
    key: def.key,
    action,
    status: 'failed',
    actor: actorOf(session),
    error: message,
    ...contextOf(session),
  });
  throw new UserError(code, message, { key: def.key, audited: true });
}

/** `for` and `at` as typed, read as /config set reads them; a refusal is audited as failed. */
async function timingOf(
  deps: PanelDeps,
  session: PanelSessionDoc,
  def: RegisteredKey,
  form: EditForm,
): Promise<Timing> {
  const action = form.atText ? 'schedule' : 'set';
  try {
    const forMs = form.forText ? parseFor(form.forText) : undefined;
    const zone = String(deps.config.get('SCHEDULE_TIMEZONE'));
    const at = form.atText ? parseAt(form.atText, zone) : undefined;
    return { forMs, at };
  } catch (err) {
    if (!isUserError(err)) throw err;
    return failed(deps, session, def, action, err.message, 'INVALID_VALUE');
  }
}

/**
 * The answer of an edit: for htmx, the part that changes (what goes under the form, or the whole
 * row when the key changed); without script, the settings page of that one key with it.
 */
async function answer(
  req: KeyRequest,
  reply: FastifyReply,
  deps: PanelDeps,
  a: RowExtra & { status: number; whole?: boolean },
) {
  const session = sessionOf(req);
  const fragment = wantsFragment(req.headers);
  if (fragment && !a.whole) return sendHtml(reply, <>{a.out}</>, { status: a.status, fragment: true });
  const data = rowData(deps.config, session, req.params.key, await pendingOf(deps.config, req.params.key));
  const row = <SettingRow data={data} extra={{ ...a, open: a.open ?? a.out !== undefined }} />;
  if (fragment) return sendHtml(reply, row, { status: a.status, fragment: true });
  return sendHtml(
    reply,
    <Page title={`Change ${data.def.key}`} session={session} current="/panel">
      <p>
        <a href="/panel">All settings</a>
      </p>
      <SettingsTable>{row}</SettingsTable>
    </Page>,
    { status: a.status },
  );
}
