/**
 * Helper process of `npm run bench`, one JSON object a line on stdout, commands on stdin.
 * Mode "follow": a process started as production starts one, printing each change as it becomes
 * current there (scripts/lib/bench-peer-follow.ts). Mode "startup": loads a registry of N keys
 * and prints how long init() took and the resident memory afterwards. Mode "api": a process
 * serving the HTTP API (runtime and server as `npm run api` starts them), which prints its
 * address (scripts/lib/bench-peer-api.ts). Mode "sse-clients": SSE clients of an API
 * (scripts/lib/bench-peer-sse.ts).
 */
import { integer } from '../src/config/kinds.js';
import { buildRegistry, type KeyDefinition } from '../src/config/registry.js';
import { ConfigService } from '../src/config/service.js';
import { connect } from '../src/storage/connection.js';
import { setLogLevel } from '../src/base/logger.js';
import { followPeer } from './lib/bench-peer-follow.js';
import { apiPeer } from './lib/bench-peer-api.js';
import { sseClientsPeer } from './lib/bench-peer-sse.js';

interface Args {
  mode: 'follow' | 'startup' | 'api' | 'sse-clients';
  uri: string;
  dbName: string;
  intervalMs?: number;
  keys?: number;
  // sse-clients
  url: string;
  token: string;
  count: number;
  path: string;
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
const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

if (args.mode === 'startup') {
  const started = performance.now();
  const conn = await connect({ uri: args.uri, dbName: args.dbName, timeoutMs: 10_000 });
  const config = new ConfigService({ registry: manyKeys(args.keys ?? 10_000), conn });
  await config.init();
  const ms = performance.now() - started;
  out({ startup_ms: ms, rss_mb: process.memoryUsage().rss / 1048576, keys: config.stats().cache.keys });
  await config.close();
  await conn.close();
} else if (args.mode === 'api') {
  await apiPeer(args);
} else if (args.mode === 'follow') {
  await followPeer(args);
} else if (args.mode === 'sse-clients') {
  await sseClientsPeer(args);
} else {
  process.stderr.write(`bench-peer: unknown mode ${String(args.mode)}\n`);
  process.exit(2);
}
process.exit(0);
