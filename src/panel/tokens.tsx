import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUserError, UserError } from '../base/errors.js';
import type { AuditAction } from '../storage/config-models.js';
import {
  describeToken,
  tokenAuditKey,
  TokenStore,
  tokenTtl,
  type ApiToken,
  type TokenAccess,
} from '../tokens/tokens.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { statusOf } from './errors.js';
import { PanelRefusal } from './guard.js';
import { sendHtml } from './render.js';
import { RevokedPage, RevokePage, TokensPage, type CreateForm } from './tokens-view.js';
import type { PanelDeps } from './types.js';

// API tokens, as /config token does them: admins only (listing included), created with the same
// validation, the token text shown once on the answer page and nowhere else, revoked after a
// confirmation. Every operation is audited under `token:<name>` with channel `panel`; creating
// and revoking count as changes against the bot's write limits.

type Body = Record<string, string | undefined>;
const field = (body: Body | undefined, name: string, max = 100): string => {
  const v = body?.[name];
  return typeof v === 'string' ? v.slice(0, max) : '';
};

export function tokenRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const tokens = new TokenStore(deps.config.conn);
  const { config } = deps;
  const sessionOf = (req: FastifyRequest) => req.panelSession as PanelSessionDoc;

  /** Audits one token operation (success, or failed with the user's reason) as Discord's `audited` does. */
  const audited = async <T,>(
    session: PanelSessionDoc,
    action: AuditAction,
    name: string | null,
    op: () => Promise<T>,
    newValue?: (result: T) => unknown,
  ): Promise<T> => {
    const row = {
      key: tokenAuditKey(name),
      action,
      actor: session.user,
      ...(session.guildId ? { guildId: session.guildId } : {}),
      channelId: 'panel',
    };
    let result: T;
    try {
      result = await config.health.guard(`token ${action}`, op);
    } catch (err) {
      const error = isUserError(err) ? err.message : 'internal error (logged)';
      await config.audit.record({ ...row, status: 'failed', error });
      throw err;
    }
    await config.audit.record({
      ...row,
      status: 'success',
      ...(newValue ? { newValue: newValue(result) } : {}),
    });
    return result;
  };

  /** A self-service admin manages its own server's keys, never the tokens that reach every scope. */
  const adminOnly = async (session: PanelSessionDoc, action: AuditAction, name: string | null) => {
    if (!session.ownScope) return;
    const message = 'API tokens reach the whole configuration: only the bot’s admins manage them.';
    await config.audit.record({
      key: tokenAuditKey(name),
      action,
      actor: session.user,
      ...(session.guildId ? { guildId: session.guildId } : {}),
      channelId: 'panel',
      status: 'denied',
      error: message,
    });
    throw new PanelRefusal(403, message);
  };

  /** A write attempt counted with the bot's limits; a refusal is audited as denied. */
  const counted = async <T,>(
    session: PanelSessionDoc,
    action: AuditAction,
    name: string,
    run: () => Promise<T>,
  ): Promise<T> => {
    let ticket: { settle(): Promise<void> };
    try {
      ticket = await deps.limits.checkAttempt(session.user.id, { key: tokenAuditKey(name), action });
    } catch (err) {
      if (err instanceof UserError && err.code === 'RATE_LIMITED')
        await config.audit.record({
          key: tokenAuditKey(name),
          action,
          actor: session.user,
          ...(session.guildId ? { guildId: session.guildId } : {}),
          channelId: 'panel',
          status: 'denied',
          error: err.detail ?? err.message,
        });
      throw err;
    }
    try {
      const result = await run();
      await deps.limits.recordChange(session.user.id);
      return result;
    } finally {
      await ticket.settle();
    }
  };

  const listPage = async (
    reply: FastifyReply,
    session: PanelSessionDoc,
    extra: { form?: CreateForm; error?: UserError; created?: { token: string; record: ApiToken } } = {},
  ) => {
    const list = await audited(session, 'token-list', null, () => tokens.list());
    return sendHtml(
      reply,
      <TokensPage session={session} tokens={list} environments={config.environments} {...extra} />,
      { status: extra.error ? statusOf(extra.error) : 200 },
    );
  };

  app.get(
    '/panel/tokens',
    { config: { access: 'public', panel: 'write', panelAction: 'token-list' } },
    async (req, reply) => {
      const session = sessionOf(req);
      await adminOnly(session, 'token-list', null);
      return listPage(reply, session);
    },
  );

  app.post<{ Body: Body }>(
    '/panel/tokens',
    { config: { access: 'public', panel: 'write', panelAction: 'token-create' } },
    async (req, reply) => {
      const session = sessionOf(req);
      const form: CreateForm = {
        name: field(req.body, 'name', 64).trim(),
        access: field(req.body, 'access', 10),
        sensitive: field(req.body, 'sensitive') === '1',
        scope: field(req.body, 'scope', 64).trim(),
        expires: field(req.body, 'expires', 20).trim(),
      };
      await adminOnly(session, 'token-create', form.name);
      try {
        const created = await counted(session, 'token-create', form.name, () =>
          audited(
            session,
            'token-create',
            form.name,
            () =>
              tokens.create(
                {
                  name: form.name,
                  access: form.access as TokenAccess,
                  sensitive: form.sensitive,
                  scope: form.scope || null,
                  ttlMs: tokenTtl(form.expires),
                  actor: session.user,
                },
                config.environments,
              ),
            (r) => describeToken(r.record),
          ),
        );
        // The only place the token's text ever appears; sendHtml answers with no-store.
        return await listPage(reply, session, { created });
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        return listPage(reply, session, { form, error: err });
      }
    },
  );

  app.get<{ Querystring: { name?: string } }>(
    '/panel/tokens/revoke',
    { config: { access: 'public', panel: 'write', panelAction: 'token-revoke' } },
    async (req, reply) => {
      const session = sessionOf(req);
      const name = typeof req.query.name === 'string' ? req.query.name.slice(0, 64) : '';
      await adminOnly(session, 'token-revoke', name);
      const found = (await tokens.list()).find((t) => t.name === name);
      if (!found) throw new UserError('UNKNOWN_KEY', `No active token is named ${name}.`);
      return sendHtml(reply, <RevokePage session={session} token={found} />);
    },
  );

  app.post<{ Body: Body }>(
    '/panel/tokens/revoke',
    { config: { access: 'public', panel: 'write', panelAction: 'token-revoke' } },
    async (req, reply) => {
      const session = sessionOf(req);
      const name = field(req.body, 'name', 64);
      await adminOnly(session, 'token-revoke', name);
      if (field(req.body, 'confirm') !== '1')
        throw new UserError('INVALID_VALUE', 'Revoking needs your confirmation: use the Revoke button.');
      const record = await counted(session, 'token-revoke', name, () =>
        audited(session, 'token-revoke', name, () => tokens.revoke(name, session.user), describeToken),
      );
      return sendHtml(reply, <RevokedPage session={session} token={record} />);
    },
  );
}
