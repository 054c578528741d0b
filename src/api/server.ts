import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { slotOfFlag } from '../flags/types.js';
import { logger } from '../base/logger.js';
import type { ChangeFeed } from '../changes/feed.js';
import type { InstanceStore } from '../changes/instances.js';
import type { ConfigService } from '../config/service.js';
import type { FlagStore } from '../flags/flags.js';
import type { Scheduler } from '../jobs/scheduler.js';
import { appVersion } from '../base/version.js';
import { ActiveTokens } from './active-tokens.js';
import { authenticator } from './auth.js';
import { recordDenied } from './denied.js';
import { ApiError, sendError } from './errors.js';
import { ApiMetrics } from './metrics.js';
import { clientErrors, frameworkErrors, jsonBodies } from './request-shape.js';
import { configRoutes } from './routes/config.js';
import { eventRoutes } from './routes/events.js';
import { flagRoutes } from './routes/flags.js';
import { instanceRoutes } from './routes/instances.js';
import { auditRoutes } from './routes/audit.js';
import { opsRoutes } from './routes/ops.js';
import { TokenStore } from '../tokens/tokens.js';
import { RateRecords } from '../storage/rate-limits.js';
import { TokenWriteLimit } from './write-limit.js';

export interface ApiOptions {
  /** Requests one token may make per minute (API_RATE_LIMIT_PER_MIN). */
  perTokenPerMinute: number;
  /** Write requests one token may make per minute, across processes (API_WRITES_PER_MIN). Default 60. */
  writesPerTokenPerMinute?: number;
  /** Bad-token requests one address may make per minute (API_AUTH_FAILURES_PER_MIN). */
  failuresPerMinute: number;
  /** Other surfaces served by the same server (the web panel), registered before it starts. */
  surfaces?: ((app: FastifyInstance, api: { metrics: ApiMetrics }) => Promise<void>)[];
  /** Comment lines on idle event streams. Default 15 s. */
  heartbeatMs?: number;
  /** Days before an unchanged, fully on or off release flag is stale (FLAG_STALE_DAYS). Default 30. */
  flagStaleDays?: number;
  /** The last-known copy of the active tokens (hashes only), to check tokens through an outage at start. */
  tokenCopyFile?: string;
  /** How often the active tokens are read again (revocations reach open streams within it). Default 1 s. */
  tokenRefreshMs?: number;
  /** How long a write waits for the database before it is answered 503 (DB_TIMEOUT_MS). Default 3 s. */
  writeTimeoutMs?: number;
}

/** What the API serves: the parts of a running process (see src/app/runtime.ts). */
export interface ApiParts {
  config: ConfigService;
  feed: ChangeFeed;
  instances: InstanceStore;
  flags: FlagStore;
  scheduler?: Scheduler | undefined;
  /** What the process is (bot, api), a label of its process metrics; default api. */
  role?: string | undefined;
}

/** The API over a running runtime: routes declare their access, one hook enforces it, one handler answers errors. */
export async function buildApi(
  runtime: ApiParts,
  opts: ApiOptions,
): Promise<{ app: FastifyInstance; metrics: ApiMetrics }> {
  const { config, feed, instances, flags } = runtime;
  const store = new TokenStore(config.conn);
  await store
    .init()
    .catch((err: unknown) => logger.warn('API token indexes not created yet', { error: String(err) }));
  const tokens = new ActiveTokens(store, {
    ...(opts.tokenCopyFile ? { copyFile: opts.tokenCopyFile } : {}),
    ...(opts.tokenRefreshMs ? { refreshMs: opts.tokenRefreshMs } : {}),
    ...(opts.writeTimeoutMs ? { lookupTimeoutMs: opts.writeTimeoutMs } : {}),
  });
  await tokens.start();
  const metrics = new ApiMetrics({
    config,
    feed,
    scheduler: runtime.scheduler,
    flags,
    role: runtime.role ?? 'api',
  });
  // Closing ends idle keep-alive connections too (event streams are ended first, see events.ts):
  // a client that connected and sent nothing must not hold a shutdown forever.
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    forceCloseConnections: true,
    frameworkErrors,
    clientErrorHandler: clientErrors,
  });
  jsonBodies(app);
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
      writes: new TokenWriteLimit(
        new RateRecords(config.conn),
        config.health,
        opts.writesPerTokenPerMinute ?? 60,
      ),
      onDenied: (req, token, error) =>
        recordDenied(config, token, {
          key: deniedKey(req.params as { key?: string; name?: string }, req.body),
          action: req.routeOptions.config.action ?? 'set',
          error,
        }),
    }),
  );
  app.addHook('onResponse', async (req, reply) => {
    // Asked first: a line winston is given goes through its stream even when no transport wants it.
    if (logger.isDebugEnabled())
      logger.debug(`API ${req.method} ${req.url} ${reply.statusCode} ${Math.round(reply.elapsedTime)} ms`);
  });
  app.addHook('onClose', async () => {
    metrics.close();
    await tokens.stop();
    await store.settle();
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
  configRoutes(app, { config, position, metrics, writeTimeoutMs: opts.writeTimeoutMs ?? 3000 });
  eventRoutes(app, {
    config,
    feed,
    metrics,
    tokens,
    ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
  });
  flagRoutes(app, {
    config,
    flags,
    position,
    metrics,
    staleDays: opts.flagStaleDays ?? 30,
    writeTimeoutMs: opts.writeTimeoutMs ?? 3000,
  });
  instanceRoutes(app, { instances, config, flags, position });
  opsRoutes(app, { config, metrics, tokens, loaded: () => config.stats().cache.keys > 0 });
  auditRoutes(app, { config });
  app.get('/v1/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  for (const surface of opts.surfaces ?? []) await surface(app, { metrics });
  await app.ready();
  return { app, metrics };
}

/** What a refused write was about, for its audit row: a key, a flag's slot, or `*`. */
function deniedKey(params: { key?: string; name?: string }, body: unknown): string {
  if (params.key) return params.key;
  const name = params.name ?? (body as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name ? slotOfFlag(name.trim().toLowerCase()) : '*';
}
