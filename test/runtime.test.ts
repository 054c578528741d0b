import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ConfigChange } from '../src/config/events.js';
import { bindModels } from '../src/storage/config-models.js';
import { registry } from '../src/config/registry.js';
import { ConfigService } from '../src/config/service.js';
import { connect } from '../src/storage/connection.js';
import { findFerretdb, startEmbedded, type EmbeddedServer } from '../src/storage/embedded.js';
import { env, parseEnv } from '../src/app/env.js';
import { startRuntime } from '../src/app/runtime.js';
import { actor, uniqueDbName } from './helpers/db.js';
import { captureLogs } from './helpers/logs.js';
import { outcome } from './helpers/outcome.js';
import { CONSOLE_TEST_TIMEOUT_MS } from './helpers/console.js';
import { nodeArgs } from './helpers/scripts.js';

const alice = actor();

function tempDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `config-bot-${label}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A FerretDB server of the test's own (it stops, kills and restarts it), or skips saying why. */
async function ownFerretdb(ctx: { skip(): void }): Promise<EmbeddedServer> {
  const e = env();
  if (!findFerretdb(e.FERRETDB_PATH, e.PATH)) {
    process.stderr.write('skipped: no ferretdb binary (npm run db:ferretdb) to supervise\n');
    ctx.skip();
  }
  const server = await startEmbedded({
    dataDir: tempDir('own'),
    prefer: 'ferretdb',
    ferretdbPath: e.FERRETDB_PATH,
    searchPath: e.PATH,
  });
  onTestFinished(() => server.stop());
  return server;
}

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('starting while the database is unreachable', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  it('starts from the last-known-good copy, refuses writes, then catches up version by version when it answers', async (ctx) => {
    const server = await ownFerretdb(ctx);
    const dbName = uniqueDbName('lkg');
    const e = parseEnv({
      MONGODB_URI: server.uri,
      MONGODB_DB_NAME: dbName,
      DATA_DIR: tempDir('lkg-data'),
      DB_TIMEOUT_MS: '500',
      CONFIG_POLL_INTERVAL_MS: '100',
    });
    const first = await startRuntime(e, { jobs: false });
    expect((await outcome(first.config.set('MAX_BATCH_SIZE', '300', alice))).ok).toBe(true);
    await first.stop();

    // Changes the copy does not have, made elsewhere before the outage.
    const conn = await connect({ uri: server.uri, dbName, timeoutMs: 2000 });
    const elsewhere = new ConfigService({ registry, conn });
    await elsewhere.init();
    await elsewhere.set('MAX_BATCH_SIZE', '400', actor('222222222222222222', 'bob'));
    await elsewhere.set('MAX_BATCH_SIZE', '500', actor('222222222222222222', 'bob'));
    await elsewhere.close();
    await conn.close();
    await server.stop();

    const logs = captureLogs();
    const rt = await startRuntime({ ...e, EXPORT_DIR: tempDir('lkg-exports') }, { jobs: true });
    try {
      expect(rt.config.get('MAX_BATCH_SIZE')).toBe(300);
      // Jobs keep their schedules from the copy.
      expect(rt.scheduler?.status()[0]).toMatchObject({
        name: 'daily-export',
        cron: '0 18 * * *',
        paused: false,
      });
      expect(rt.scheduler?.status()[0]?.nextRun).toBeInstanceOf(Date);
      expect(rt.config.stats()).toMatchObject({
        startedFrom: 'last-known-good copy',
        database: 'unavailable',
      });
      const refused = await outcome(rt.config.set('MAX_BATCH_SIZE', '600', alice));
      expect(!refused.ok && refused.error.code).toBe('UNAVAILABLE');
      await until(() => rt.config.stats().auditQueued === 1, 2000, 'the refused attempt to be queued');
      const seen: ConfigChange[] = [];
      rt.config.subscribe(['MAX_BATCH_SIZE'], (c) => void seen.push(c));

      await server.restart();
      await until(() => rt.config.get('MAX_BATCH_SIZE') === 500, 15_000, 'the catch-up');
      expect(seen.map((c) => [c.version, c.newValue])).toEqual([
        [3, 400],
        [4, 500],
      ]);
      await until(() => rt.config.stats().auditQueued === 0, 5000, 'the queued audit row');
      const late = await bindModels(rt.db.conn)
        .ConfigAudit.find({ attemptedAt: { $exists: true } })
        .lean();
      expect(late).toHaveLength(1);
      expect(late[0]).toMatchObject({ key: 'MAX_BATCH_SIZE', status: 'failed', actor: alice });
      expect((await outcome(rt.config.set('MAX_BATCH_SIZE', '700', alice))).ok).toBe(true);
      expect(logs.lines.join('\n')).toMatch(/Started from the last-known-good copy/);
    } finally {
      logs.stop();
      await rt.stop();
    }
  });
});

describe('the embedded database', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  it('is restarted when its process dies, and the driver reconnects', async (ctx) => {
    const server = await ownFerretdb(ctx);
    const conn = await connect({ uri: server.uri, dbName: uniqueDbName('supervise'), timeoutMs: 2000 });
    onTestFinished(() => conn.close());
    await conn.collection('probe').insertOne({ n: 1 });
    const logs = captureLogs();
    onTestFinished(() => logs.stop());
    const before = server.pid ?? 0;
    process.kill(before, 'SIGKILL');
    await until(() => server.pid !== undefined && server.pid !== before, 20_000, 'a new server process');
    await until(
      async () =>
        (await conn
          .collection('probe')
          .countDocuments()
          .catch(() => -1)) === 1,
      20_000,
      'the data through the same connection',
    );
    expect(logs.lines.join('\n')).toMatch(/exited unexpectedly[\s\S]*restarted on port/);
  });

  it('stops with the console on SIGTERM, SIGINT and SIGHUP: no orphan left running', async (ctx) => {
    const e = env();
    const bin = findFerretdb(e.FERRETDB_PATH, e.PATH);
    if (!bin) {
      process.stderr.write('skipped: no ferretdb binary (npm run db:ferretdb)\n');
      ctx.skip();
      return;
    }
    // Each signal with a console and a FerretDB of its own, side by side; every run is awaited
    // before the test ends, and the first failure is the test's.
    const runs = (['SIGTERM', 'SIGINT', 'SIGHUP'] as const).map(async (signal) => {
      const dataDir = tempDir('orphan');
      const child = spawn(process.execPath, nodeArgs('scripts/console.ts', 'build'), {
        env: {
          ...process.env,
          MONGODB_URI: '',
          DATA_DIR: dataDir,
          EMBEDDED_DB: 'ferretdb',
          FERRETDB_PATH: bin,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.stdin.write('/config view setting:LOG_LEVEL\n');
      await until(() => out.includes('LOG_LEVEL'), 30_000, 'the console to answer');
      const pids = execFileSync('pgrep', ['-f', `sqlite-url=file:${dataDir}`])
        .toString()
        .trim()
        .split('\n')
        .map(Number);
      expect(pids.length).toBeGreaterThan(0);
      child.kill(signal);
      expect(await exited).not.toBeNull();
      await until(() => pids.every((p) => !alive(p)), 10_000, `FerretDB to stop after ${signal}`);
    });
    for (const r of await Promise.allSettled(runs)) if (r.status === 'rejected') throw r.reason;
  });
});
