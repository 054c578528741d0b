import type { FastifyInstance } from 'fastify';
import { LoginHelp } from './errors.js';
import { SESSION_COOKIE } from './guard.js';
import { Page } from './layout.js';
import { sendHtml } from './render.js';
import type { PanelDeps } from './types.js';

const REFUSED = {
  unknown: 'This login link is not valid: it was mistyped, or its 5 minutes are over. Ask for a new one.',
  used: 'This login link was used already; a link logs in once. Ask for a new one.',
} as const;

/**
 * Logging in with a one-time link, and out. Opening the link only shows whom it is for: the
 * session is made by the button's POST, so a link preview (Discord unfurls links) cannot use it.
 */
export function loginRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { logins } = deps;
  for (const path of ['/', '/admin'])
    app.get(path, { config: { access: 'public', panel: 'none' } }, async (_req, reply) =>
      reply.redirect('/panel'),
    );

  app.get<{ Params: { secret: string } }>(
    '/panel/login/:secret',
    { config: { access: 'public', panel: 'none' } },
    async (req, reply) => {
      const found = await logins.checkLink(req.params.secret);
      // A local admin's link (the first run) is void once Discord is connected.
      const checked =
        typeof found !== 'string' && found.via === 'local' && !deps.localAdmin ? 'unknown' : found;
      if (typeof checked === 'string')
        return sendHtml(
          reply,
          <Page title="Log in">
            <p class="error" role="alert">
              {REFUSED[checked]}
            </p>
            <LoginHelp />
          </Page>,
          { status: 410 },
        );
      return sendHtml(
        reply,
        <Page title="Log in">
          <p>
            This link logs in <strong>{checked.user.tag}</strong>
            {checked.access === 'write' ? ' as an admin' : ' with read-only access'}. It works once.
          </p>
          <form method="post" action={`/panel/login/${req.params.secret}`}>
            <button type="submit">Log in as {checked.user.tag}</button>
          </form>
        </Page>,
      );
    },
  );

  app.post<{ Params: { secret: string } }>(
    '/panel/login/:secret',
    { config: { access: 'public', panel: 'none' } },
    async (req, reply) => {
      const found = await logins.checkLink(req.params.secret);
      const local = typeof found !== 'string' && found.via === 'local' && !deps.localAdmin;
      const done = local ? 'unknown' : await logins.redeem(req.params.secret);
      if (typeof done === 'string')
        return sendHtml(
          reply,
          <Page title="Log in">
            <p class="error" role="alert">
              {REFUSED[done]}
            </p>
            <LoginHelp />
          </Page>,
          { status: 410 },
        );
      reply.setCookie(SESSION_COOKIE, done.id, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: new URL(deps.baseUrl()).protocol === 'https:',
        expires: done.session.expiresAt,
      });
      return reply.redirect('/panel', 303);
    },
  );

  app.post('/panel/logout', { config: { access: 'public', panel: 'read' } }, async (req, reply) => {
    await logins.logout(req.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return sendHtml(
      reply,
      <Page title="Logged out">
        <p>You are logged out. Ask for a new login link to come back.</p>
        <LoginHelp />
      </Page>,
    );
  });

  // Any other address under /panel: a page of the panel saying so, not the API's JSON (after the
  // login check, so it tells nothing to someone not logged in).
  app.get('/panel/*', { config: { access: 'public', panel: 'read' } }, async (req, reply) =>
    sendHtml(
      reply,
      <Page title="Not found" session={req.panelSession}>
        <p>
          The panel has no page at <code>{req.url.split('?')[0]}</code>.{' '}
          <a href="/panel">Go to the settings</a>.
        </p>
      </Page>,
      { status: 404 },
    ),
  );
}
