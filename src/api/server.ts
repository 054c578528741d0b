import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Env } from '../env.js';
import { StartupError } from '../errors.js';
import { logger } from '../logger.js';
import type { Runtime } from '../runtime.js';
import { appVersion } from '../version.js';
import { authenticator } from './auth.js';
import { recordDenied } from './denied.js';
import { ApiError, sendError } from './errors.js';
import { ApiMetrics } from './metrics.js';
import { configRoutes } from './routes/config.js';
import { eventRoutes } from './routes/events.js';
import { flagRoutes } from './routes/flags.js';
import { instanceRoutes } from './routes/instances.js';
import { opsRoutes } from './routes/ops.js';
import { TokenStore } from './tokens.js';

export interface ApiOptions {
  /** Requests one token may make per minute (API_RATE_LIMIT_PER_MIN). */
  perTokenPerMinute: number;
  /** Bad-token requests one address may make per minute (API_AUTH_FAILURES_PER_MIN). */
  failuresPerMinute: number;
  /** Comment lines on idle event streams. Default 15 s. */
  heartbeatMs?: number;
  /** Days before an unchanged, fully on or off release flag is stale (FLAG_STALE_DAYS). Default 30. */
  flagStaleDays?: number;
}

/** The API over a running runtime: routes declare their access, one hook enforces it, one handler answers errors. */
export async function buildApi(
  runtime: Runtime,
  opts: ApiOptions,
): Promise<{ app: FastifyInstance; metrics: ApiMetrics }> {
  const { config, feed, instances, flags } = runtime;
  const tokens = new TokenStore(config.conn);
  await tokens
    .init()
    .catch((err: unknown) => logger.warn('API token indexes not created yet', { error: String(err) }));
  const metrics = new ApiMetrics({ config, feed, scheduler: runtime.scheduler, flags });
  // Closing ends idle keep-alive connections too (event streams are ended first, see events.ts):
  // a client that connected and sent nothing must not hold a shutdown forever.
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  // Like the Discord loader: a route that does not say what it requires is a bug, found at start.
  app.addHook('onRoute', (route) => {
    if (!route.config?.access)
      throw new Error(`API route ${String(route.method)} ${route.url} declares no access`);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    sendError(
      new ApiError(
        404,
        'NOT_FOUND',
        `No route ${req.method} ${req.url.split('?')[0] ?? ''}; the routes are listed at /v1/openapi.json.`,
      ),
      req,
      reply,
    ),
  );
  app.addHook(
    'onRequest',
    authenticator({
      tokens,
      perToken: opts.perTokenPerMinute,
      failuresPerAddress: opts.failuresPerMinute,
      onDenied: (req, token, error) =>
        recordDenied(config, token, {
          key: (req.params as { key?: string }).key ?? '*',
          action: req.routeOptions.config.action ?? 'set',
          error,
        }),
    }),
  );
  app.addHook('onResponse', async (req, reply) => {
    logger.debug(`API ${req.method} ${req.url} ${reply.statusCode} ${Math.round(reply.elapsedTime)} ms`);
  });
  app.addHook('onClose', async () => {
    metrics.close();
    await tokens.settle();
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'config-bot API',
        version: appVersion(),
        description: 'Configuration values, their history and live changes (see docs/api.md).',
      },
      components: {
        securitySchemes: {
          token: { type: 'http', scheme: 'bearer', description: 'cfgbot_… (/config token create)' },
        },
      },
      security: [{ token: [] }],
    },
    transform: jsonSchemaTransform,
  });
  const position = () => feed.position;
  configRoutes(app, { config, position, metrics });
  eventRoutes(app, { config, feed, metrics, ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}) });
  flagRoutes(app, { config, flags, position, metrics, staleDays: opts.flagStaleDays ?? 30 });
  instanceRoutes(app, { instances, config, flags, position });
  opsRoutes(app, { config, metrics, loaded: () => config.stats().cache.keys > 0 });
  app.get('/v1/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  await app.ready();
  return { app, metrics };
}

export interface RunningApi {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts the API on HTTP_HOST:port; a port in use or not allowed is one plain line (StartupError by the caller). */
export async function startApi(
  runtime: Runtime,
  env: Env,
  port: number,
  extra: Partial<ApiOptions> = {},
): Promise<RunningApi> {
  const { app } = await buildApi(runtime, {
    perTokenPerMinute: env.API_RATE_LIMIT_PER_MIN,
    failuresPerMinute: env.API_AUTH_FAILURES_PER_MIN,
    flagStaleDays: env.FLAG_STALE_DAYS,
    ...extra,
  });
  let address: string;
  try {
    address = await app.listen({ port, host: env.HTTP_HOST });
  } catch (err) {
    await app.close();
    const code = (err as { code?: string }).code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${port} is already in use`
        : code === 'EACCES'
          ? `port ${port} needs privileges this process does not have`
          : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
            ? `${env.HTTP_HOST} is not an address of this machine`
            : String((err as Error).message);
    throw new StartupError(
      `Cannot start the HTTP API on ${env.HTTP_HOST}:${port}: ${why}. Change HTTP_PORT or HTTP_HOST.`,
    );
  }
  logger.info(`HTTP API listening on ${address} (routes: ${address}/v1/openapi.json)`);
  return { url: address, app, close: () => app.close() };
}
