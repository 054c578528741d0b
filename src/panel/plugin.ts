import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { auditRoutes } from './audit.js';
import { auditVerifyRoutes } from './audit-verify.js';
import { errorPage } from './errors.js';
import { dashboardRoutes } from './dashboards.js';
import { guard, PanelRefusal } from './guard.js';
import { historyRoutes } from './history.js';
import { historyWriteRoutes } from './history-write.js';
import { liveRoutes } from './live.js';
import { loginRoutes } from './login.js';
import { oauthRoutes } from './oauth.js';
import { requestRoutes } from './requests.js';
import { settingsRoutes } from './settings.js';
import { flagRoutes } from './flags.js';
import { snapshotRoutes } from './snapshots.js';
import { transferRoutes } from './transfer.js';
import { staticRoutes } from './static.js';
import { tokenRoutes } from './tokens.js';
import { processRoutes } from './processes.js';
import type { PanelDeps } from './types.js';

/**
 * The web panel, on the API's own server: pages under /panel, rendered on the server, with the
 * same service, access rule, limits and audit as Discord. Registered in a scope of its own, so
 * its cookies, form bodies, security headers and error pages leave the API's bearer routes as
 * they are.
 */
export async function panelPlugin(app: FastifyInstance, deps: PanelDeps): Promise<void> {
  // The static files are the same for everyone: served outside the pages' scope, so fetching
  // them reads no session from the database.
  await app.register(async (assets) => staticRoutes(assets));
  await app.register(async (panel) => {
    await panel.register(fastifyCookie);
    await panel.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
    await panel.register(fastifyHelmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      // no-referrer would make browsers send `Origin: null` with the panel's own forms, which the
      // origin check then refuses; same-origin keeps the page's address inside the panel.
      referrerPolicy: { policy: 'same-origin' },
      // The panel is plain HTTP on loopback by default; HSTS would lock a browser out of that.
      strictTransportSecurity: false,
    });
    // Like the API's `access`: a panel route that does not say what it requires is a bug.
    panel.addHook('onRoute', (route) => {
      if (!route.config?.panel)
        throw new Error(`Panel route ${String(route.method)} ${route.url} declares no panel access`);
      // Pages are not part of the API: kept out of its OpenAPI document.
      route.schema = { ...route.schema, hide: true };
    });
    // Before validation, so a request without a session learns nothing of a route's inputs.
    panel.addHook('preValidation', async (req) => {
      const required = req.routeOptions.config.panel ?? 'write';
      const session = await guard(req, required, deps.logins, {
        origin: new URL(deps.baseUrl()).origin,
        localAdmin: deps.localAdmin,
        recheck: deps.recheck,
      }).catch(async (err: unknown) => {
        if (err instanceof PanelRefusal && err.deniedTo)
          await auditDenied(deps, req, err.deniedTo, err.message);
        throw err;
      });
      if (session) req.panelSession = session;
    });
    panel.setErrorHandler((err, req, reply) => errorPage(err, req, reply));
    loginRoutes(panel, deps);
    oauthRoutes(panel, deps);
    settingsRoutes(panel, deps);
    flagRoutes(panel, deps);
    historyRoutes(panel, deps);
    historyWriteRoutes(panel, deps);
    auditRoutes(panel, deps);
    auditVerifyRoutes(panel, deps);
    requestRoutes(panel, deps);
    liveRoutes(panel, deps);
    dashboardRoutes(panel, deps);
    snapshotRoutes(panel, deps);
    transferRoutes(panel, deps);
    tokenRoutes(panel, deps);
    processRoutes(panel, deps);
  });
}

/** A write refused for the user's access, audited as Discord audits one (channel `panel`). */
async function auditDenied(deps: PanelDeps, req: FastifyRequest, session: PanelSessionDoc, error: string) {
  const params = req.params as { key?: unknown; name?: unknown; id?: unknown };
  const key =
    typeof params.key === 'string'
      ? params.key
      : typeof params.name === 'string'
        ? `flag:${params.name}`
        : '*';
  await deps.config.audit.record({
    key,
    action: req.routeOptions.config.panelAction ?? 'set',
    actor: session.user,
    guildId: session.guildId ?? undefined,
    channelId: 'panel',
    status: 'denied',
    error,
  });
}
