import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ConfigService } from '../../config/service.js';
import type { ActiveTokens } from '../active-tokens.js';
import type { ApiMetrics } from '../metrics.js';

export interface OpsRoutesDeps {
  config: ConfigService;
  metrics: ApiMetrics;
  tokens: ActiveTokens;
  /** Whether this process has loaded its configuration (from the database or its copy). */
  loaded: () => boolean;
}

/** Health, readiness and metrics: no token (bind HTTP_HOST to a private address to keep them private). */
export function opsRoutes(app: FastifyInstance, deps: OpsRoutesDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: { summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  const ready = z.object({
    ready: z.boolean(),
    database: z.enum(['connected', 'last-known-values']),
    outageSince: z.string().nullable(),
    startedFrom: z.string(),
    tokens: z.enum(['database', 'last-known-copy', 'none']).describe('What API tokens are checked against'),
    problems: z
      .array(z.string())
      .describe('What an operator should fix, one plain sentence each (not-ready reasons first)'),
  });
  api.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Configuration loaded; whether values come from the database or the last-known-good copy',
        response: { 200: ready, 503: ready },
      },
    },
    async (_req, reply) => {
      const s = deps.config.stats();
      const loaded = deps.loaded();
      const tokens = deps.tokens.state;
      const problems = [
        ...(loaded ? [] : ['The configuration is not loaded yet']),
        ...(tokens.problem ? [tokens.problem] : []),
        // Not a reason to stop serving: every other key is served and followed.
        ...s.undecryptable.map(
          (u) =>
            `${u.slot.replace('|', ' at ')} is served masked: ${u.reason}. Add that key to CONFIG_ENCRYPTION_KEYS and restart this process.`,
        ),
      ];
      const body = {
        ready: loaded && tokens.ready,
        database: s.database === 'connected' ? ('connected' as const) : ('last-known-values' as const),
        outageSince: s.outageSince?.toISOString() ?? null,
        startedFrom: s.startedFrom,
        tokens: tokens.source,
        problems,
      };
      return reply.code(body.ready ? 200 : 503).send(body);
    },
  );

  api.get(
    '/metrics',
    { config: { access: 'public' }, schema: { summary: 'Prometheus metrics', hide: false } },
    async (_req, reply) => {
      const text = await deps.metrics.registry.metrics();
      return reply.header('content-type', deps.metrics.registry.contentType).send(text);
    },
  );
}
