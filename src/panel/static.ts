import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);

/**
 * The panel's static files, all served by this server (no CDN): htmx and its SSE extension from
 * their npm packages, and the panel's own stylesheet and script. Read once at start; long-cached
 * by the browser under a name that changes with the package version.
 */
function files(): Map<string, { type: string; body: Buffer }> {
  const own = (name: string) => fileURLToPath(new URL(`../../src/panel/static/${name}`, import.meta.url));
  // From dist/src/panel the sources are two folders further up.
  const ownFile = (name: string) => {
    for (const p of [
      own(name),
      fileURLToPath(new URL(`../../../src/panel/static/${name}`, import.meta.url)),
    ]) {
      try {
        return readFileSync(p);
      } catch {
        // try the next place
      }
    }
    throw new Error(`The panel's static file ${name} is missing from src/panel/static/`);
  };
  const js = 'text/javascript; charset=utf-8';
  return new Map([
    ['htmx.min.js', { type: js, body: readFileSync(require.resolve('htmx.org/dist/htmx.min.js')) }],
    ['sse.js', { type: js, body: readFileSync(require.resolve('htmx-ext-sse/dist/sse.js')) }],
    ['panel.js', { type: js, body: ownFile('panel.js') }],
    ['panel.css', { type: 'text/css; charset=utf-8', body: ownFile('panel.css') }],
  ]);
}

export function staticRoutes(app: FastifyInstance): void {
  const served = files();
  app.get<{ Params: { name: string } }>(
    '/panel/static/:name',
    // Not part of the API: kept out of its OpenAPI document.
    { config: { access: 'public', panel: 'none' }, schema: { hide: true } },
    async (req, reply) => {
      const file = served.get(req.params.name);
      if (!file) return reply.code(404).type('text/plain').send('Not found');
      return reply
        .type(file.type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(file.body);
    },
  );
}
