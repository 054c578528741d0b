import { StartupError } from '../base/errors.js';
import { logger } from '../base/logger.js';
import { buildApi, type ApiOptions } from '../api/server.js';
import type { FastifyInstance } from 'fastify';
import { localFiles } from './config.js';
import type { Env } from './env.js';
import type { Runtime } from './runtime.js';
import { panelLogins, panelSurface, panelUrl, type PanelOptions } from './panel.js';
import type { PanelLogins } from '../tokens/panel-logins.js';

export interface RunningApi {
  url: string;
  /** The web panel's address (PANEL_URL, else this server's). */
  panelUrl: string;
  /** Login links of the panel (the first run prints one for the local admin). */
  logins: PanelLogins;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts the API on HTTP_HOST:port; a port in use or not allowed is one plain line (StartupError by the caller). */
export async function startApi(
  runtime: Runtime,
  env: Env,
  port: number,
  extra: Partial<ApiOptions> = {},
  panel: PanelOptions = {},
): Promise<RunningApi> {
  let publicUrl = panelUrl(env, port);
  const logins = panelLogins(runtime, env);
  const { app } = await buildApi(runtime, {
    surfaces: [panelSurface(runtime, env, logins, () => publicUrl, panel)],
    perTokenPerMinute: env.API_RATE_LIMIT_PER_MIN,
    writesPerTokenPerMinute: env.API_WRITES_PER_MIN,
    failuresPerMinute: env.API_AUTH_FAILURES_PER_MIN,
    flagStaleDays: env.FLAG_STALE_DAYS,
    tokenCopyFile: localFiles(env, runtime.db.name).apiTokens,
    writeTimeoutMs: env.DB_TIMEOUT_MS,
    ...extra,
  });
  let address: string;
  try {
    // Node's default queue of 511 connections not yet accepted drops part of a burst (a fleet of
    // event-stream clients reconnecting after a restart), and a dropped connect waits a second
    // before it tries again. The kernel caps this at its own somaxconn.
    address = await app.listen({ port, host: env.HTTP_HOST, backlog: 4096 });
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
  // Port 0 (tests) is known only now.
  if (!env.PANEL_URL) publicUrl = address;
  logger.info(
    `HTTP API listening on ${address} (routes: ${address}/v1/openapi.json; web panel: ${publicUrl}/panel)`,
  );
  return { url: address, panelUrl: publicUrl, logins, app, close: () => app.close() };
}
