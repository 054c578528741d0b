/**
 * Benchmarks against the same real database the tests use (MONGODB_URI, else an embedded server
 * in a temp dir), in the database the URI names (which must be empty: it is dropped at the end),
 * else one of its own. Prints a table, or with --json one JSON object of numbers. Figures and targets in docs/benchmarks.md.
 *
 *   npm run bench [-- --json] [-- --quick]
 *
 * Every figure about more than one process is measured from outside them: real OS processes
 * (scripts/bench-peer.ts), real HTTP on loopback, arrival times by the machine's clock. The steps:
 * scripts/lib/bench-local.ts (this process), bench-propagation.ts (follower processes),
 * bench-api.ts, bench-load.ts and bench-load1000.ts (API processes), bench-storage.ts,
 * bench-audit.ts, bench-flags.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigService } from '../src/config/service.js';
import { startEmbedded, type EmbeddedServer } from '../src/storage/embedded.js';
import { env } from '../src/app/env.js';
import { setLogLevel } from '../src/base/logger.js';
import { runScript } from './lib/run.js';
import { benchAudit } from './lib/bench-audit.js';
import { ArgsError } from './lib/args.js';
import { BENCH_USAGE, benchArgs } from './lib/bench-args.js';
import { openBenchDatabase } from './lib/bench-db.js';
import { roundTripsPerPut } from './lib/round-trips.js';
import { benchFlags } from './lib/bench-flags.js';
import { startApiPeer, benchToken, type BenchRun } from './lib/bench-common.js';
import { benchRegistry, interactionFigures, readFigures, writeFigures } from './lib/bench-local.js';
import { eightFollowers, oneFollower } from './lib/bench-propagation.js';
import { sseFigures } from './lib/bench-api.js';
import { loadFigures } from './lib/bench-load.js';
import { load1000 } from './lib/bench-load1000.js';
import { historyFigures, startupFigures } from './lib/bench-storage.js';

async function main(): Promise<number | void> {
  let args: ReturnType<typeof benchArgs>;
  try {
    args = benchArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  const { json, quick } = args;
  const run: BenchRun = {
    quick,
    say: (s) => {
      if (!json) process.stderr.write(`${s}\n`);
    },
  };
  setLogLevel('warn');
  const e = env();
  let server: EmbeddedServer | undefined;
  let dir: string | undefined;
  let uri = e.MONGODB_URI;
  if (!uri) {
    dir = mkdtempSync(path.join(tmpdir(), 'config-bot-bench-'));
    server = await startEmbedded({
      dataDir: dir,
      prefer: e.EMBEDDED_DB,
      ferretdbPath: e.FERRETDB_PATH,
      searchPath: e.PATH,
    });
    uri = server.uri;
  }
  const { conn, name: dbName } = await openBenchDatabase(uri);
  const config = new ConfigService({ registry: benchRegistry(), conn });
  await config.init();
  const result: Record<string, number | string> = { database: server?.kind ?? 'MONGODB_URI' };

  run.say('flag evaluation, ours and unleash-client’s (offline) ...');
  Object.assign(result, await benchFlags(quick));
  Object.assign(result, await readFigures(run, config));

  run.say('database round trips per write of a process that follows the log ...');
  result.db_round_trips_per_put = await roundTripsPerPut(uri, `${dbName}_trips`, quick ? 20 : 50);

  Object.assign(result, await writeFigures(run, config));
  Object.assign(result, await interactionFigures(run, config));

  const intervalMs = e.CONFIG_POLL_INTERVAL_MS;
  const processes = { run, uri, dbName, intervalMs, config };
  Object.assign(result, await oneFollower({ ...processes, serverPid: server?.pid }));
  Object.assign(result, await eightFollowers({ ...processes, serverPid: server?.pid }));

  const api = await startApiPeer(processes);
  Object.assign(result, await sseFigures(processes, api.url));
  const headers = { authorization: `Bearer ${await benchToken(config, 'read', 2)}` };
  Object.assign(result, await loadFigures({ ...processes, ...api, headers }));
  await api.peer.stop();
  Object.assign(result, await load1000(processes));

  Object.assign(result, await historyFigures(run, config, conn));

  const chained = quick ? 10_000 : 100_000;
  run.say(`audit log: appends, and a verify of a ${chained}-row chain ...`);
  Object.assign(result, await benchAudit(config, conn, chained));

  // The start-up figure needs an empty database: the same one, emptied (a URI may allow no other).
  await config.close();
  await conn.dropDatabase();
  Object.assign(result, await startupFigures(run, uri, dbName));

  await conn.dropDatabase();
  await conn.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });

  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const width = Math.max(...Object.keys(result).map((k) => k.length));
  const rows = Object.entries(result).map(
    ([k, v]) =>
      `${k.padEnd(width)} ${typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v}`,
  );
  process.stdout.write(`${rows.join('\n')}\n`);
}

runScript(main);
