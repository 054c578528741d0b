import type { ConfigService } from '../config/service.js';
import type { ExportDeps } from '../jobs/daily-export.js';
import type { Notifier } from '../jobs/notifier.js';
import type { DbConnection } from '../storage/connection.js';
import { ExportLog } from '../storage/export-log.js';
import type { Env } from './env.js';

/** A scheduled export waits this long for a manual one to finish; a manual one waits a minute. */
const SCHEDULED_CHAIN_WAIT_MS = 10 * 60_000;
const MANUAL_CHAIN_WAIT_MS = 60_000;

/** What the daily export needs, built the same way for the scheduler and `npm run export`. */
export function exportDeps(opts: {
  config: ConfigService;
  conn: DbConnection;
  env: Env;
  instanceId: string;
  notifier?: Notifier;
  manual?: boolean;
}): ExportDeps {
  const { env } = opts;
  return {
    config: opts.config,
    log: new ExportLog(opts.conn, { ttlMs: env.LEASE_TTL_MS }),
    exportDir: env.EXPORT_DIR,
    instanceId: opts.instanceId,
    ...(opts.notifier && env.EXPORT_CHANNEL_ID
      ? { notifier: opts.notifier, exportChannelId: env.EXPORT_CHANNEL_ID }
      : {}),
    settleMs: env.DB_TIMEOUT_MS,
    chainWaitMs: opts.manual ? MANUAL_CHAIN_WAIT_MS : SCHEDULED_CHAIN_WAIT_MS,
  };
}
