import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setLogLevel } from '../../src/base/logger.js';

const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

/** The event loop delay histogram's sampling interval: each sample is the interval plus the delay. */
const LOOP_RESOLUTION_MS = 10;

/**
 * Mode "api": a process serving the HTTP API (runtime and server as `npm run api` starts them),
 * which prints its address first (`{url}`). Commands on stdin: `loop-reset` starts the event
 * loop delay histogram again (answers `{reset: true}`); `stats` answers its resident memory and
 * the event loop delay since the last reset; `stop` ends it.
 */
export async function apiPeer(args: { uri: string; dbName: string; intervalMs?: number }): Promise<void> {
  const { parseEnv } = await import('../../src/app/env.js');
  const { startRuntime } = await import('../../src/app/runtime.js');
  const { startApi } = await import('../../src/app/api.js');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-bench-api-'));
  const e = parseEnv({
    MONGODB_URI: args.uri,
    MONGODB_DB_NAME: args.dbName,
    DATA_DIR: dataDir,
    CONFIG_POLL_INTERVAL_MS: String(args.intervalMs ?? 100),
    // The load checks measure the server, not the per-token limits.
    API_RATE_LIMIT_PER_MIN: '1000000',
    API_WRITES_PER_MIN: '1000000',
  });
  const runtime = await startRuntime(e, { jobs: false, report: 'api' });
  setLogLevel('warn');
  const api = await startApi(runtime, e, 0);
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  // Histogram values are in ns and include the sampling interval itself.
  const delayMs = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  out({ url: api.url });
  for await (const line of createInterface({ input: process.stdin })) {
    const command = line.trim();
    if (command === 'stop') break;
    if (command === 'loop-reset') {
      loop.reset();
      out({ reset: true });
    } else if (command === 'stats') {
      out({
        rss_mb: process.memoryUsage().rss / 1048576,
        loop_ms_p50: delayMs(loop.percentile(50)),
        loop_ms_p99: delayMs(loop.percentile(99)),
        loop_ms_max: delayMs(loop.max),
        loop_samples: loop.count,
      });
    }
  }
  loop.disable();
  await api.close();
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
