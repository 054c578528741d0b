import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { closeConfigService, initConfigService } from './config/index.js';
import type { ConfigService } from './config/service.js';
import { ConfigSync } from './config/sync.js';
import { openDatabase, type Database } from './db/index.js';
import type { Notifier } from './discord/notifier.js';
import type { Env } from './env.js';
import { createJobs } from './jobs/index.js';
import { errorDetail, logger } from './logger.js';
import { JobRuns } from './scheduler/leases.js';
import { Scheduler } from './scheduler/scheduler.js';

/** What /config status reports about this process. */
export interface RuntimeInfo {
  instanceId: string;
  startedAt: Date;
  database: string;
  scheduler?: Scheduler;
  sync?: ConfigSync;
}

export interface Runtime extends RuntimeInfo {
  db: Database;
  config: ConfigService;
  stop(): Promise<void>;
}

export function newInstanceId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
}

/**
 * Database, configuration, cross-process sync and (optionally) the scheduler, started in order
 * and stopped in reverse. The bot runs all of it; the console and scripts leave jobs out.
 */
export async function startRuntime(env: Env, opts: { jobs: boolean; notifier?: Notifier }): Promise<Runtime> {
  const instanceId = newInstanceId();
  const db = await openDatabase(env);
  const config = await initConfigService(db.conn, env);
  const sync = new ConfigSync(config, db.conn, { intervalMs: env.CONFIG_POLL_INTERVAL_MS });
  await sync.start();
  let scheduler: Scheduler | undefined;
  if (opts.jobs) {
    const { notifier } = opts;
    scheduler = new Scheduler({
      config,
      runs: new JobRuns(db.conn),
      instanceId,
      jobs: createJobs({
        config,
        conn: db.conn,
        exportDir: env.EXPORT_DIR,
        instanceId,
        notifier,
        exportChannelId: env.EXPORT_CHANNEL_ID,
      }),
      ...(notifier && env.ALERT_CHANNEL_ID
        ? { alert: (text: string) => notifier.post(env.ALERT_CHANNEL_ID ?? '', text) }
        : {}),
    });
    await scheduler.start();
  }
  return {
    instanceId,
    startedAt: new Date(),
    database: db.embedded ? `embedded ${db.embedded.kind}` : 'MONGODB_URI',
    db,
    config,
    sync,
    scheduler,
    async stop() {
      try {
        await scheduler?.stop();
        await sync.stop();
        await closeConfigService();
        await db.close();
      } catch (err) {
        logger.error('Error while stopping', errorDetail(err));
      }
    },
  };
}
