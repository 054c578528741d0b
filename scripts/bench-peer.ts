/**
 * Helper process of `npm run bench`. Mode "follow": a second bot process that prints when each
 * change reaches its cache. Mode "startup": loads a registry of N keys and prints how long init()
 * took and the resident memory afterwards. Mode "api": a process serving the HTTP API (runtime
 * and server as `npm run api` starts them), which prints its address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { integer } from '../src/config/kinds.js';
import { buildRegistry, type KeyDefinition } from '../src/config/registry.js';
import { ConfigService } from '../src/config/service.js';
import { ConfigSync } from '../src/changes/sync.js';
import { connect } from '../src/storage/connection.js';
import { setLogLevel } from '../src/base/logger.js';

interface Args {
  mode: 'follow' | 'startup' | 'api';
  uri: string;
  dbName: string;
  intervalMs?: number;
  keys?: number;
}

function manyKeys(n: number) {
  const defs: Record<string, KeyDefinition> = {};
  for (let i = 0; i < n; i++) {
    defs[`BENCH_KEY_${String(i).padStart(5, '0')}`] = {
      ...integer({ min: 0, max: 1_000_000 }),
      category: 'system',
      description: `Benchmark key ${i}`,
      default: i,
      sensitive: false,
      requiresRestart: false,
    } as KeyDefinition;
  }
  return buildRegistry(defs);
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
setLogLevel('warn');
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

if (args.mode === 'startup') {
  const started = performance.now();
  const conn = await connect({ uri: args.uri, dbName: args.dbName, timeoutMs: 10_000 });
  const config = new ConfigService({ registry: manyKeys(args.keys ?? 10_000), conn });
  await config.init();
  const ms = performance.now() - started;
  out({ startup_ms: ms, rss_mb: process.memoryUsage().rss / 1048576, keys: config.stats().cache.keys });
  await config.close();
  await conn.close();
  process.exit(0);
}

if (args.mode === 'api') {
  const { parseEnv } = await import('../src/app/env.js');
  const { startRuntime } = await import('../src/app/runtime.js');
  const { startApi } = await import('../src/app/api.js');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-bench-api-'));
  const e = parseEnv({
    MONGODB_URI: args.uri,
    MONGODB_DB_NAME: args.dbName,
    DATA_DIR: dataDir,
    CONFIG_POLL_INTERVAL_MS: String(args.intervalMs ?? 100),
    // The load check measures the server, not the per-token limit.
    API_RATE_LIMIT_PER_MIN: '1000000',
  });
  const runtime = await startRuntime(e, { jobs: false, report: 'api' });
  setLogLevel('warn');
  const api = await startApi(runtime, e, 0);
  out({ url: api.url });
  for await (const line of createInterface({ input: process.stdin })) if (line.trim() === 'stop') break;
  await api.close();
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}

const { registry } = await import('../src/config/registry.js');
const conn = await connect({ uri: args.uri, dbName: args.dbName, timeoutMs: 10_000 });
const config = new ConfigService({ registry, conn });
await config.init();
const sync = new ConfigSync(config, conn, { intervalMs: args.intervalMs ?? 500 });
await sync.start();
config.subscribe(undefined, (c) => void out({ key: c.key, version: c.version, at: Date.now() }));
out({ ready: true });
for await (const line of createInterface({ input: process.stdin })) if (line.trim() === 'stop') break;
await sync.stop();
await config.close();
await conn.close();
process.exit(0);
