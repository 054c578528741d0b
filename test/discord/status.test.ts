import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { integer } from '../../src/config/kinds.js';
import type { ConfigService } from '../../src/config/service.js';
import { ConfigSync } from '../../src/changes/sync.js';
import { env } from '../../src/app/env.js';
import { createJobs } from '../../src/jobs/index.js';
import { exportDeps } from '../../src/app/jobs.js';
import { JobRuns } from '../../src/storage/job-runs.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { actor, openService, openTestDb, type TestDb } from '../helpers/db.js';
import { ensureValue } from '../helpers/outcome.js';
import { startBot, type Bot } from '../helpers/discord.js';

let db: TestDb;
let svc: ConfigService;
let bot: Bot;
let scheduler: Scheduler;
let sync: ConfigSync;
let exportDir: string;

function registryWithRestartKey() {
  const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
  defs.WORKER_THREADS = {
    ...integer({ min: 1, max: 64 }),
    category: 'system',
    description: 'Worker threads, read at start-up',
    default: 4,
    sensitive: false,
    requiresRestart: true,
  } as KeyDefinition;
  return buildRegistry(defs);
}

beforeAll(async () => {
  db = await openTestDb('status');
  svc = await openService(db, { registry: registryWithRestartKey() });
  exportDir = mkdtempSync(path.join(tmpdir(), 'config-bot-status-'));
  scheduler = new Scheduler({
    config: svc,
    runs: new JobRuns(db.conn),
    instanceId: 'bot-1',
    jobs: createJobs(
      exportDeps({
        config: svc,
        conn: db.conn,
        env: { ...env(), EXPORT_DIR: exportDir },
        instanceId: 'bot-1',
      }),
    ),
  });
  await scheduler.start();
  sync = new ConfigSync(svc, db.conn, { intervalMs: 500 });
  await sync.start();
  bot = await startBot(
    svc,
    {},
    {
      instanceId: 'bot-1',
      startedAt: new Date(Date.now() - 65_000),
      database: 'MONGODB_URI',
      scheduler,
      sync,
    },
  );
});
afterAll(async () => {
  await bot.close();
  await scheduler.stop();
  await sync.stop();
  await svc.close();
  await db.drop();
  rmSync(exportDir, { recursive: true, force: true });
});

const fieldsOf = (reply: Awaited<ReturnType<ReturnType<Bot['session']>['run']>>[number] | undefined) =>
  Object.fromEntries((reply?.embeds[0]?.fields ?? []).map((f) => [f.name, f.value]));

describe('/config status', () => {
  it('shows instance, uptime, database, sync, cache, maintenance, pending restarts and each job', async () => {
    const replies = await bot.session().run('/config status');
    // Deferred first: the list of processes is read from the database.
    expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
    const f = fieldsOf(replies.at(-1));
    // Started 65 s before the bot was built: on a loaded machine the reply may come a few seconds later.
    expect(f.Instance).toMatch(/^`bot-1` · up 1m \d{1,2}s$/);
    expect(f.Database).toBe('MONGODB\\_URI · connected');
    expect(f.Sync).toBe('polling every 500 ms');
    expect(f.Cache).toMatch(
      new RegExp(
        `^${registry.size + 1} keys, \\d+ overrides? · \\d+ feature flags? · \\d+ hits / \\d+ misses`,
      ),
    );
    expect(f['Maintenance mode']).toBe('off');
    // Keys set by other tests of this file stay listed for the life of the process.
    expect(f['Pending restart']).toBe(svc.pendingRestart().join(', ') || 'none');
    expect(f['Job daily-export']).toMatch(/^`0 18 \* \* \*` UTC · next <t:\d+:f>/);
    expect(f['Job daily-export']).toMatch(/Last: not run by this process yet/);
  });

  it('follows a schedule change and maintenance mode', async () => {
    onTestFinished(async () => {
      // Back to the defaults, so the other tests see the schedule they expect whatever the order.
      await ensureValue(svc.reset('MAINTENANCE_MODE', actor()));
      await ensureValue(svc.reset('DAILY_EXPORT_TIME', actor()));
      for (
        let i = 0;
        i < 100 && !(scheduler.status()[0]?.cron === '0 18 * * *' && !scheduler.status()[0]?.paused);
        i++
      )
        await sleep(20);
    });
    const s = bot.session();
    await s.run('/config set setting:DAILY_EXPORT_TIME value:20:15');
    await s.run('/config set setting:MAINTENANCE_MODE value:on');
    const f = fieldsOf((await s.run('/config status')).at(-1));
    expect(f['Job daily-export (paused)']).toMatch(/^`15 20 \* \* \*` UTC/);
    expect(f['Maintenance mode']).toBe('ON: every job is paused');
  });

  it('a restart-required key says so when set, and stays listed until restart', async () => {
    const [, reply] = await bot.session().run('/config set setting:WORKER_THREADS value:8');
    expect(fieldsOf(reply)['Restart needed']).toMatch(/takes effect after the bot restarts/);
    expect(svc.get('WORKER_THREADS')).toBe(8);
    const f = fieldsOf((await bot.session().run('/config status')).at(-1));
    expect(f['Pending restart']).toBe('WORKER_THREADS');
  });
});
