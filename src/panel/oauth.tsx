import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SESSION_COOKIE } from './guard.js';
import { LoginHelp } from './errors.js';
import { authorizeUrl, completeLogin, OAuthFailure, type OAuthSettings } from './discord-oauth.js';
import { Page } from './layout.js';
import { sendHtml } from './render.js';
import type { PanelDeps } from './types.js';

/** Holds the login's `state` between Discord's redirect and its return, for 10 minutes. */
const STATE_COOKIE = 'panel_oauth_state';
const STATE_TTL_S = 600;

const same = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Logging in with Discord (OAuth2 authorization code, scopes `identify guilds`) when
 * DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET are set. The session gets the bot's own rule: a
 * member of an allowed server may look; Administrator there, or an admin role (asked of Discord
 * through the bot when it runs), may change. The Discord token is read once and dropped.
 */
export function oauthRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const redirectUri = () => `${deps.baseUrl()}/panel/oauth/callback`;
  const secure = () => new URL(deps.baseUrl()).protocol === 'https:';
  const refuse = (reply: Parameters<typeof sendHtml>[0], status: number, message: string) =>
    sendHtml(
      reply,
      <Page title="Log in">
        <p class="error" role="alert">
          {message}
        </p>
        <LoginHelp />
      </Page>,
      { status },
    );

  app.get('/panel/login', { config: { access: 'public', panel: 'none' } }, async (_req, reply) =>
    sendHtml(
      reply,
      <Page title="Log in">
        {deps.oauth && (
          <p>
            <a class="button" href="/panel/oauth/start">
              Log in with Discord
            </a>
          </p>
        )}
        <LoginHelp />
      </Page>,
    ),
  );

  app.get('/panel/oauth/start', { config: { access: 'public', panel: 'none' } }, async (_req, reply) => {
    const o = deps.oauth;
    if (!o)
      return refuse(
        reply,
        404,
        'Logging in with Discord is not set up here (DISCORD_CLIENT_SECRET is not set).',
      );
    const state = randomBytes(24).toString('base64url');
    reply.setCookie(STATE_COOKIE, state, {
      path: '/panel/oauth',
      httpOnly: true,
      sameSite: 'lax',
      secure: secure(),
      maxAge: STATE_TTL_S,
    });
    return reply.redirect(authorizeUrl(o, redirectUri(), state), 302);
  });

  app.get<{ Querystring: { code?: string; state?: string; error?: string } }>(
    '/panel/oauth/callback',
    { config: { access: 'public', panel: 'none' } },
    async (req, reply) => {
      const o: OAuthSettings | undefined = deps.oauth;
      if (!o) return refuse(reply, 404, 'Logging in with Discord is not set up here.');
      const expected = req.cookies[STATE_COOKIE] ?? '';
      reply.clearCookie(STATE_COOKIE, { path: '/panel/oauth' });
      const { code, state, error } = req.query;
      if (error === 'access_denied')
        return refuse(reply, 400, 'You cancelled the login on Discord; nothing changed.');
      if (typeof state !== 'string' || !expected || !same(state, expected))
        return refuse(
          reply,
          400,
          'This login did not start here or took too long (its state does not match). Start again.',
        );
      if (error || typeof code !== 'string' || !code)
        return refuse(
          reply,
          400,
          `Discord did not complete the login${error ? ` (${String(error).slice(0, 60)})` : ''}. Start again.`,
        );
      let login;
      try {
        login = await completeLogin(o, code, redirectUri());
      } catch (err) {
        if (err instanceof OAuthFailure) return refuse(reply, 502, err.message);
        throw err;
      }
      const identity = await identityOf(login, deps);
      if (!identity)
        return refuse(
          reply,
          403,
          `Your Discord account ${login.user.tag} is not a member of a server this bot serves, so it cannot use the panel.`,
        );
      const { id, session } = await deps.logins.open(identity);
      await deps.config.audit.record({
        key: '*',
        action: 'panel-login',
        actor: identity.user,
        guildId: identity.guildId ?? undefined,
        channelId: 'panel',
        status: 'success',
        newValue: identity.access,
      });
      reply.setCookie(SESSION_COOKIE, id, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: secure(),
        expires: session.expiresAt,
      });
      return reply.redirect('/panel', 303);
    },
  );
}

/** The bot's rule for a Discord login: the first allowed server the user is in decides. */
async function identityOf(login: Awaited<ReturnType<typeof completeLogin>>, deps: PanelDeps) {
  for (const g of login.guilds) {
    const asked = g.administrator ? 'write' : await deps.recheck?.(g.id, login.user.id, false);
    if (asked === 'none') continue;
    return {
      user: login.user,
      guildId: g.id,
      access: asked === 'write' ? ('write' as const) : ('read' as const),
      ownScope: null,
      via: 'oauth' as const,
    };
  }
  return undefined;
}
