import { RateRecords } from '../storage/rate-limits.js';
import type { ApiMetrics } from '../api/metrics.js';
import { errorDetail, logger } from '../base/logger.js';
import { WriteRateLimiter } from '../discord/rate-limit.js';
import { discordSettings } from '../discord/context.js';
import type { PanelDeps } from '../panel/types.js';
import { PanelLogins } from '../tokens/panel-logins.js';
import type { FastifyInstance } from 'fastify';
import type { Env } from './env.js';
import type { Runtime } from './runtime.js';

/** How this process serves the panel. */
export interface PanelOptions {
  /** Whether the local admin may log in: only while Discord is not connected (the first run). */
  localAdmin?: boolean;
  /** The bot's access rule asked of Discord again on every write (bot processes). */
  recheck?: PanelDeps['recheck'];
}

/** The panel's address as browsers reach it: PANEL_URL, else this host and port. */
export function panelUrl(env: Env, port: number): string {
  return env.PANEL_URL ?? `http://${env.HTTP_HOST}:${port}`;
}

/** The panel's logins (links and sessions) over the runtime's database, with the env's session times. */
export function panelLogins(runtime: Runtime, env: Env): PanelLogins {
  return new PanelLogins(runtime.config.conn, {
    idleMs: env.PANEL_SESSION_IDLE_MIN * 60_000,
    maxMs: env.PANEL_SESSION_MAX_HOURS * 3_600_000,
  });
}

/**
 * The web panel as a surface of the API's server: the runtime's service and stores, the bot's
 * own write limits (counted with Discord's, per user), and its public address once it is known.
 */
export function panelSurface(
  runtime: Runtime,
  env: Env,
  logins: PanelLogins,
  baseUrl: () => string,
  opts: PanelOptions,
): (app: FastifyInstance, api?: { metrics: ApiMetrics }) => Promise<void> {
  const { config } = runtime;
  const limits = new WriteRateLimiter(new RateRecords(config.conn), config.health, {
    changes: env.WRITE_RATE_LIMIT_PER_MIN,
    attempts: env.WRITE_ATTEMPTS_PER_MIN,
  });
  return async (app, api) => {
    // Not awaited: a start from the last-known-good copy must not wait on the database for them;
    // they only let MongoDB drop expired links and sessions (expiry is checked on every read).
    logins
      .ensureIndexes()
      .catch((err: unknown) => logger.debug('Panel session indexes not created yet', errorDetail(err)));
    // Loaded only by a process that serves the panel: the console, which imports this module for
    // the login links, does not load the panel's pages (about 50 modules) at start-up.
    const { panelPlugin } = await import('../panel/plugin.js');
    await panelPlugin(app, {
      config,
      feed: runtime.feed,
      instances: runtime.instances,
      flags: runtime.flags,
      scheduler: runtime.scheduler,
      logins,
      limits,
      baseUrl,
      localAdmin: opts.localAdmin === true,
      mostRead: api ? (limit) => api.metrics.mostRead(limit) : undefined,
      flagStaleDays: env.FLAG_STALE_DAYS,
      recheck: opts.recheck,
      ...(env.DISCORD_CLIENT_ID && env.DISCORD_CLIENT_SECRET
        ? {
            oauth: {
              clientId: env.DISCORD_CLIENT_ID,
              clientSecret: env.DISCORD_CLIENT_SECRET,
              discordUrl: env.DISCORD_OAUTH_URL,
              allowedGuildIds: discordSettings(env).allowedGuildIds,
            },
          }
        : {}),
    });
  };
}
