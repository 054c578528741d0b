import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FlagRollbackPreview, StoredFlag } from '../flags/types.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { one, type FormBody } from './flags-edit.js';
import { flagWrite, panelContext, type FlagOutcome } from './flags-write.js';
import { CsrfField, Page } from './layout.js';
import { sendHtml } from './render.js';
import type { PanelDeps } from './types.js';

/** Shows a flag's page with what a write did (flags.tsx provides it). */
export type ShowFlag = (
  req: FastifyRequest,
  reply: FastifyReply,
  held: StoredFlag,
  extra: { outcome?: FlagOutcome },
) => Promise<FastifyReply>;

/** The version a form was read at: a flag changed since is refused, not overwritten. */
export function expected(body: FormBody): { expectedVersion?: number } {
  const v = Number(one(body, 'version'));
  return Number.isSafeInteger(v) && v > 0 ? { expectedVersion: v } : {};
}

/** Whether a flag is on in production now (switching it off there asks first, as /flag does). */
export const onInProduction = (held: StoredFlag): boolean =>
  !held.flag.archived && held.flag.enabled && held.flag.environments.includes('production');

function RollbackPage({ session, p }: { session: PanelSessionDoc; p: FlagRollbackPreview }) {
  return (
    <Page title={`Roll ${p.name} back to v${p.toVersion}?`} session={session} current="/panel/flags">
      <p>
        {p.name} is at version {p.currentVersion}. Restoring version {p.toVersion} makes a new version that
        changes:
      </p>
      <ul>
        {p.changes.map((c) => (
          <li>{c}</li>
        ))}
      </ul>
      <form method="post" action={`/panel/flags/${p.name}/rollback`} class="fl-stack">
        <CsrfField session={session} />
        <input type="hidden" name="version" value={String(p.currentVersion)} />
        <input type="hidden" name="to" value={String(p.toVersion)} />
        <label>
          Reason <input name="reason" maxLength={500} />
        </label>
        <div class="fl-row fl-actions">
          <button type="submit">Roll back to v{p.toVersion}</button>
          <a href={`/panel/flags/${p.name}`}>Cancel</a>
        </div>
      </form>
    </Page>
  );
}

function ArchivePage({ session, held }: { session: PanelSessionDoc; held: StoredFlag }) {
  const f = held.flag;
  return (
    <Page title={`Archive ${f.name}?`} session={session} current="/panel/flags">
      <p class="warn">
        {f.name} is on in production: archiving switches it off there, and everywhere, at once. An archived
        flag can only be rolled back.
      </p>
      <form method="post" action={`/panel/flags/${f.name}/archive`} class="fl-stack">
        <CsrfField session={session} />
        <input type="hidden" name="version" value={String(held.version)} />
        <input type="hidden" name="confirm" value="1" />
        <label>
          Reason <input name="reason" maxLength={500} />
        </label>
        <div class="fl-row fl-actions">
          <button type="submit" class="danger">
            Archive {f.name}
          </button>
          <a href={`/panel/flags/${f.name}`}>Cancel</a>
        </div>
      </form>
    </Page>
  );
}

/**
 * Archive and roll back, as /flag archive and /flag rollback: a rollback is previewed (what it
 * changes) before it is confirmed; archiving a flag on in production asks first.
 */
export function flagLifecycleRoutes(app: FastifyInstance, deps: PanelDeps, show: ShowFlag): void {
  const { flags } = deps;
  const sessionOf = (req: FastifyRequest) => req.panelSession as PanelSessionDoc;

  app.get<{ Params: { name: string }; Querystring: { to?: string } }>(
    '/panel/flags/:name/rollback',
    { config: { access: 'public', panel: 'write', panelAction: 'rollback' } },
    async (req, reply) => {
      const held = flags.require(req.params.name);
      const preview = await flags.previewRollback(held.flag.name, Number(req.query.to ?? ''));
      return sendHtml(reply, <RollbackPage session={sessionOf(req)} p={preview} />);
    },
  );

  app.post<{ Params: { name: string }; Body: FormBody }>(
    '/panel/flags/:name/rollback',
    { config: { access: 'public', panel: 'write', panelAction: 'rollback' } },
    async (req, reply) => {
      const session = sessionOf(req);
      const body = req.body ?? {};
      const name = req.params.name.trim().toLowerCase();
      const to = Number(one(body, 'to'));
      const outcome = await flagWrite(
        deps,
        session,
        { name, action: 'rollback' },
        () =>
          flags.rollback(
            name,
            to,
            session.user,
            one(body, 'reason') || undefined,
            panelContext(session),
            expected(body),
          ),
        () => undefined,
      );
      return show(req, reply, flags.require(name), { outcome });
    },
  );

  app.post<{ Params: { name: string }; Body: FormBody }>(
    '/panel/flags/:name/archive',
    { config: { access: 'public', panel: 'write', panelAction: 'archive' } },
    async (req, reply) => {
      const session = sessionOf(req);
      const body = req.body ?? {};
      const held = flags.require(req.params.name);
      const name = held.flag.name;
      if (onInProduction(held) && one(body, 'confirm') !== '1')
        return sendHtml(reply, <ArchivePage session={session} held={held} />);
      const outcome = await flagWrite(
        deps,
        session,
        { name, action: 'archive' },
        () =>
          flags.archive(
            name,
            session.user,
            one(body, 'reason') || undefined,
            panelContext(session),
            expected(body),
          ),
        () => undefined,
      );
      return show(req, reply, flags.require(name), { outcome });
    },
  );
}
