import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { atExit } from './cli.js';
import { DecryptError } from '../storage/codec.js';
import { createConfigService, localFiles } from './config.js';
import { followLogLevel } from './log-level.js';
import type { ConfigService } from '../config/service.js';
import { ScheduleRunner } from '../timed/schedule-runner.js';
import { ConfigSync } from '../changes/sync.js';
import { ChangeFeed } from '../changes/feed.js';
import { FlagStore, slotOfFlag } from '../flags/flags.js';
import type { ChangeRequest } from '../approvals/requests.js';
import { UsageFlusher } from '../flags/usage.js';
import { KillAlerts } from '../discord/kill-alerts.js';
import { RequestKeeper } from '../approvals/request-keeper.js';
import { InstanceReporter, InstanceStore, type InstanceKind } from '../changes/instances.js';
import { isUnavailableError } from '../storage/connection.js';
import { DatabaseHealth } from '../storage/health.js';
import { openDatabase, type Database, type DatabaseOptions } from '../storage/database.js';
import type { Notifier } from '../jobs/notifier.js';
import type { Env } from './env.js';
import { StartupError } from '../base/errors.js';
import { createJobs } from '../jobs/index.js';
import type { ProcessInfo } from '../discord/types.js';
import { exportDeps } from './jobs.js';
import { errorDetail, logger } from '../base/logger.js';
import { JobRuns } from '../storage/job-runs.js';
import { auditCheckpointJob } from '../jobs/audit-checkpoint.js';
import { Scheduler } from '../jobs/scheduler.js';

/** What /config status reports about this process (the commands' ProcessInfo). */
export type RuntimeInfo = ProcessInfo;

export interface Runtime extends RuntimeInfo {
  db: Database;
  config: ConfigService;
  feed: ChangeFeed;
  instances: InstanceStore;
  /** Feature flags: held in memory, followed through the change feed. */
  flags: FlagStore;
  /** What this process reports itself as (bot, api); none for one-off scripts. */
  role?: InstanceKind | undefined;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  jobs: boolean;
  notifier?: Notifier;
  /** Report this process as following the configuration (bot and API processes; not one-off scripts). */
  report?: InstanceKind;
}

/** The start-up line about the audit log's signing key: its public half is what verifiers need. */
function logSigningKey(env: Env): void {
  const key = env.AUDIT_SIGNING_KEY;
  if (key)
    logger.info(
      `Audit checkpoints signed every ${env.AUDIT_CHECKPOINT_MINUTES} min by key ${key.id}; public key: ${key.publicText}`,
    );
  else
    logger.info(
      'Audit checkpoints are off: set AUDIT_SIGNING_KEY (npm run audit:verify -- --new-key) so a rewrite of the whole audit log shows',
    );
}

/** Where the database is, as the storage layer takes it (it reads no environment itself). */
export function databaseOptions(e: Env): DatabaseOptions {
  return {
    uri: e.MONGODB_URI,
    defaultName: e.MONGODB_DB_NAME,
    timeoutMs: e.DB_TIMEOUT_MS,
    embedded: {
      dataDir: e.DATA_DIR,
      prefer: e.EMBEDDED_DB,
      ferretdbPath: e.FERRETDB_PATH,
      searchPath: e.PATH,
    },
  };
}

export function newInstanceId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
}

/**
 * Database, configuration, cross-process sync and (optionally) the scheduler, started in order
 * and stopped in reverse. The bot runs all of it; the console and scripts leave jobs out.
 *
 * When the database cannot be reached, the process starts from the last-known-good copy in
 * DATA_DIR (reads and jobs work, writes are refused), keeps trying to connect, and catches up
 * once it answers; with no copy either, it refuses to start with one line saying so.
 */
export async function startRuntime(env: Env, opts: RuntimeOptions): Promise<Runtime> {
  const instanceId = newInstanceId();
  try {
    mkdirSync(env.DATA_DIR, { recursive: true });
  } catch (err) {
    throw new StartupError(
      `Cannot start: DATA_DIR (${env.DATA_DIR}) cannot be created (${(err as NodeJS.ErrnoException).code ?? String(err)}): create it, or point DATA_DIR at a writable directory.`,
    );
  }
  const health = new DatabaseHealth();
  const db = await openDatabase(databaseOptions(env), health);
  const config = createConfigService(db.conn, env, { health, database: db.name });
  const flags = new FlagStore(config);
  const feed = new ChangeFeed(config, { intervalMs: env.CONFIG_POLL_INTERVAL_MS, followers: [flags] });
  const sync = new ConfigSync(config, db.conn, {
    intervalMs: env.CONFIG_POLL_INTERVAL_MS,
    fullRefreshMs: env.CONFIG_CACHE_TTL_MS,
    feed,
    changeStream: env.CONFIG_CHANGE_STREAM,
  });
  const instances = new InstanceStore(db.conn, env.INSTANCE_GONE_MS);
  config.useImpactSources({ instances });
  const reporter = opts.report
    ? new InstanceReporter(instances, feed, { id: instanceId, kind: opts.report }, env.INSTANCE_REPORT_MS)
    : undefined;
  // Evaluations made in this process (the API's evaluate route), shared with every other process.
  const usage = new UsageFlusher(flags.usage, () => flags.set.counts(), 10_000);
  let alerts: KillAlerts | undefined;
  let scheduler: Scheduler | undefined;
  let changes: ScheduleRunner | undefined;
  let keeper: RequestKeeper | undefined;
  let stopped = false;
  let beginning: Promise<void> = Promise.resolve();
  // Begins the audit chain on a database that has none yet (sealing older rows can take a while).
  const beginTrail = () => {
    beginning = config.trail.begin().then(
      () => undefined,
      (err: unknown) => {
        logger.error(
          'Could not begin the audit chain; it is tried again at the next start',
          errorDetail(err),
        );
      },
    );
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await beginning;
      await reporter?.stop();
      await alerts?.stop();
      await keeper?.stop();
      await usage.stop();
      feed.stop();
      await changes?.stop();
      await scheduler?.stop();
      await sync.stop();
      await config.close();
      await db.close();
    } catch (err) {
      logger.error('Error while stopping', errorDetail(err));
    }
  };
  // Every way out of an entry point (a signal included) stops what this started, the embedded
  // database first of all, which would otherwise outlive the process.
  atExit(stop);

  try {
    let unreachable = db.connected ? undefined : (db.connectError ?? 'no connection');
    if (!unreachable) {
      try {
        await feed.prime();
        await config.init();
        beginTrail();
        await flags.load();
        await sync.start();
      } catch (err) {
        if (!isUnavailableError(err)) throw err;
        unreachable = errorDetail(err).error as string;
      }
    }
    if (unreachable)
      await startWithoutDatabase(config, db, env, unreachable, async () => {
        beginTrail();
        await flags.load();
        await sync.start();
      });
    // Stopped with the service, which drops its listeners on close.
    followLogLevel(config);
    if (opts.report) logSigningKey(env);
    await feed.start();
    reporter?.start();
    usage.start();
    if (opts.jobs && opts.notifier && env.ALERT_CHANNEL_ID) {
      // Automatic kills of flags, posted once across bot processes with a button to undo.
      alerts = new KillAlerts(db.conn, flags, opts.notifier, env.ALERT_CHANNEL_ID, instanceId);
      alerts.start();
    }
    if (opts.jobs) {
      const { notifier } = opts;
      const alerts =
        notifier && env.ALERT_CHANNEL_ID
          ? { alert: (text: string) => notifier.post(env.ALERT_CHANNEL_ID ?? '', text) }
          : {};
      scheduler = new Scheduler({
        config,
        runs: new JobRuns(db.conn, { ttlMs: env.LEASE_TTL_MS }),
        instanceId,
        jobs: [
          ...createJobs(
            exportDeps({ config, conn: db.conn, env, instanceId, ...(notifier ? { notifier } : {}) }),
          ),
          // Only with a key: an unsigned checkpoint proves nothing.
          ...(env.AUDIT_SIGNING_KEY
            ? [
                auditCheckpointJob({
                  config,
                  minutes: env.AUDIT_CHECKPOINT_MINUTES,
                  ...(alerts.alert ? { post: alerts.alert } : {}),
                }),
              ]
            : []),
        ],
        ...alerts,
      });
      await scheduler.start();
      config.useImpactSources({ scheduler, instances });
      // Expiries of temporary values and scheduled changes, once across every bot process.
      changes = new ScheduleRunner(config, db.conn, {
        holder: instanceId,
        leaseTtlMs: env.LEASE_TTL_MS,
        ...alerts,
      });
      await changes.start();
      // Change requests: expiry, interrupted applies, approvals cleared when a key moves; shown
      // in the approval channel by bot processes (any one of them posts each request once).
      // Loaded here, by bot processes only: its Discord rendering would add discord.js (~30 MB)
      // to every API process.
      const board =
        notifier && env.APPROVAL_CHANNEL_ID
          ? new (await import('../discord/requests/board.js')).RequestBoard(
              config.requests,
              notifier,
              env.APPROVAL_CHANNEL_ID,
            )
          : undefined;
      keeper = new RequestKeeper(config, {
        ...(board ? { show: (r: ChangeRequest) => board.show(r) } : {}),
        // A request computed against a version of a flag loses its approvals when the flag moves.
        slotChanges: (fn) => flags.subscribe((c) => fn(slotOfFlag(c.name))),
      });
      keeper.start();
    }
  } catch (err) {
    await stop();
    if (err instanceof DecryptError) throw new StartupError(err.message);
    throw err;
  }
  return {
    instanceId,
    startedAt: new Date(),
    database: db.embedded ? `embedded ${db.embedded.kind}` : 'MONGODB_URI',
    db,
    config,
    sync,
    scheduler,
    feed,
    instances,
    flags,
    role: opts.report,
    stop,
  };
}

async function startWithoutDatabase(
  config: ConfigService,
  db: Database,
  env: Env,
  reason: string,
  afterAttach: () => Promise<void>,
): Promise<void> {
  const copy = await config.lastKnownCopy();
  if (!copy) {
    const file = localFiles(env, db.name).lastKnownGood;
    throw new StartupError(
      `Cannot start: ${db.where} cannot be reached (${reason}), and there is no last-known-good copy (${file}) to start from. Start the database or fix MONGODB_URI, then try again.`,
    );
  }
  await config.startFromCopy(copy, reason);
  db.keepConnecting(async () => {
    await config.attach();
    await afterAttach();
  });
}
