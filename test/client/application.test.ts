import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/tokens/tokens.js';
import { renderText } from '../../src/offline/console-session.js';
import { parseEnv } from '../../src/app/env.js';
import { startRuntime, type Runtime } from '../../src/app/runtime.js';
import { actor, openTestDb, type TestDb } from '../helpers/db.js';
import { startBot, type Bot } from '../helpers/discord.js';
import { spawnTs, type Child } from '../helpers/process.js';
import type { Via } from '../helpers/scripts.js';

/**
 * The application side end to end, every part a real OS process: two processes serving the API
 * over one database (as `npm run api` starts them, the bot's core without Discord), the example
 * worker following them through the client library, and an admin changing values in Discord
 * (the offline harness in this process).
 */
let db: TestDb;
let dir: string;
let token: string;
let ports: [number, number];
let runtime: Runtime;
let bot: Bot;
const children = new Set<Child>();

const vars = (port: number) => ({
  MONGODB_URI: db.uri,
  MONGODB_DB_NAME: db.dbName,
  DATA_DIR: path.join(dir, `api-${port}`),
  DISCORD_TOKEN: '',
  HTTP_PORT: String(port),
  HTTP_HOST: '127.0.0.1',
  INSTANCE_REPORT_MS: '500',
  INSTANCE_GONE_MS: '2500',
  CONFIG_POLL_INTERVAL_MS: '100',
  // This test follows changes to the application; approvals have their own tests.
  APPROVALS_REQUIRED: 'none',
});

/** `npm run api`: through tsx as npm starts it, or from this run's build (test/helpers/scripts.ts). */
async function startApiProcess(port: number, via: Via = 'build'): Promise<Child> {
  const child = spawnTs('scripts/api.ts', [], vars(port), { via });
  children.add(child);
  await untilReady(`http://127.0.0.1:${port}`, child);
  return child;
}

function startWorker(url: string, via: Via = 'build'): Child {
  const child = spawnTs(
    'examples/worker.ts',
    [],
    {
      CONFIG_API_URL: url,
      CONFIG_API_TOKEN: token,
      CONFIG_CACHE_FILE: path.join(dir, 'worker-config.json'),
    },
    { via },
  );
  children.add(child);
  return child;
}

async function stop(child: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  child.proc.kill(signal);
  await child.closed();
  children.delete(child);
}

/** The next line of `child` matching `pattern` (earlier lines are skipped). */
async function lineMatching(
  child: Child,
  pattern: RegExp,
  what: string,
  timeoutMs = 15_000,
): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const line = await child.nextLine(Math.max(1, until - Date.now()), what);
    if (pattern.test(line)) return line;
  }
}

/** Runs a /config line as an admin; returns the text of the last version of its reply. */
async function admin(line: string): Promise<string> {
  const views = await bot.session().run(line);
  const last = views.at(-1);
  return last ? renderText(last) : '';
}

beforeAll(async () => {
  db = await openTestDb('application');
  dir = mkdtempSync(path.join(tmpdir(), 'config-bot-application-'));
  ports = [await freePort(), await freePort()];
  ({ token } = await new TokenStore(db.conn).create({ name: 'worker', access: 'read', actor: actor() }, [
    'production',
  ]));
  // The admin's process: Discord commands over a runtime of its own (it does not report itself).
  runtime = await startRuntime(parseEnv({ ...vars(0), HTTP_PORT: '', DATA_DIR: path.join(dir, 'admin') }), {
    jobs: false,
  });
  bot = await startBot(runtime.config, {}, runtime);
}, 120_000);

afterAll(async () => {
  for (const child of [...children]) await stop(child, 'SIGKILL');
  await bot?.close();
  await runtime?.stop();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('an application following the configuration from its own process', () => {
  it(
    'applies a change made in Discord, which reports who applied it; survives the API restarting; starts from its last-known-good file while the API is down',
    { timeout: 180_000 },
    async () => {
      const [portA, portB] = ports;
      // Two processes, started side by side; the first one, and the worker, through tsx as
      // `npm run api` and examples/README.md start them.
      const started = await Promise.all([startApiProcess(portA, 'tsx'), startApiProcess(portB)]);
      let apiA = started[0];
      const apiB = started[1];
      const worker = startWorker(`http://127.0.0.1:${portA}`, 'tsx');
      expect(await lineMatching(worker, /^Started from/, 'the worker starting')).toBe(
        'Started from the API: MAX_BATCH_SIZE=100 AI_CONFIDENCE_THRESHOLD=0.85',
      );
      await lineMatching(worker, /following changes/, 'the worker following the stream');

      // Two API processes and the worker are live: the reply says all three applied the change.
      const reply = await admin('/config set setting:MAX_BATCH_SIZE value:250 reason:"bigger batches"');
      expect(await lineMatching(worker, /^MAX_BATCH_SIZE:/, 'the change reaching the worker')).toMatch(
        /^MAX_BATCH_SIZE: 100 -> 250 \(version 2, by admin\)$/,
      );
      expect(reply).toMatch(/Applied by 3 of 3 processes, slowest \d+ ms\./);

      // A process stopped cleanly is shown as stopped at once and no longer counted.
      await stop(apiB);
      const status = await admin('/config status');
      expect(status).toMatch(/🟢 example-worker \(client\).*up to date/);
      expect(status).toMatch(/⚪ .*\(api\).*stopped/);
      expect(await admin('/config set setting:AI_CONFIDENCE_THRESHOLD value:0.9')).toMatch(
        /Applied by 2 of 2 processes/,
      );
      await lineMatching(worker, /^AI_CONFIDENCE_THRESHOLD: 0.85 -> 0.9/, 'the second change');

      // The API the worker follows dies and comes back: the worker keeps its values, resumes,
      // and gets the change made while it was away.
      await stop(apiA, 'SIGKILL');
      expect(await admin('/config set setting:MAX_BATCH_SIZE value:300')).toMatch(/Processes|Updated/);
      apiA = await startApiProcess(portA);
      expect(
        // The client reconnects with a growing backoff, and the API process starts meanwhile: a
        // loaded machine needs more than the usual 15 s for both.
        await lineMatching(worker, /^MAX_BATCH_SIZE:/, 'the change made while the API was down', 40_000),
      ).toMatch(/^MAX_BATCH_SIZE: 250 -> 300 \(version 3/);

      // With the API down, a new worker starts from the file the first one kept (no secret in it).
      await stop(worker);
      await stop(apiA);
      const file = readFileSync(path.join(dir, 'worker-config.json'), 'utf8');
      expect(file).not.toContain(token);
      const again = startWorker(`http://127.0.0.1:${portA}`);
      expect(await lineMatching(again, /^Started from/, 'the worker starting without the API')).toBe(
        'Started from the last-known-good file: MAX_BATCH_SIZE=300 AI_CONFIDENCE_THRESHOLD=0.9',
      );
      await stop(again);
    },
  );
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits for the API's readiness route, or fails with the child's own words if it exited. */
async function untilReady(url: string, child: Child): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`the API process exited: ${child.stderr()}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > until) throw new Error(`the API at ${url} did not become ready: ${child.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
