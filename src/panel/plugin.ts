import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { errorPage } from './errors.js';
import { guard } from './guard.js';
import { loginRoutes } from './login.js';
import { settingsRoutes } from './settings.js';
import { staticRoutes } from './static.js';
import type { PanelDeps } from './types.js';

/**
 * The web panel, on the API's own server: pages under /panel, rendered on the server, with the
 * same service, access rule, limits and audit as Discord. Registered in a scope of its own, so
 * its cookies, form bodies, security headers and error pages leave the API's bearer routes as
 * they are.
 */
export async function panelPlugin(app: FastifyInstance, deps: PanelDeps): Promise<void> {
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
    });
    panel.addHook('preHandler', async (req) => {
      const required = req.routeOptions.config.panel ?? 'write';
      const session = await guard(req, required, deps.logins, {
        origin: new URL(deps.baseUrl()).origin,
        localAdmin: deps.localAdmin,
      });
      if (session) req.panelSession = session;
    });
    panel.setErrorHandler((err, req, reply) => errorPage(err, req, reply));
    staticRoutes(panel);
    loginRoutes(panel, deps);
    settingsRoutes(panel, deps);
  });
}
