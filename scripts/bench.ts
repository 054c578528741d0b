/**
 * Benchmarks against the same real database the tests use (MONGODB_URI, else an embedded server
 * in a temp dir), in the database the URI names (which must be empty: it is dropped at the end),
 * else one of its own. Prints a table, or with --json one JSON object of numbers. Figures and targets in docs/benchmarks.md.
 *
 *   npm run bench [-- --json] [-- --quick]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TokenStore } from '../src/tokens/tokens.js';
import { integer } from '../src/config/kinds.js';
import { buildRegistry, registry, type KeyDefinition } from '../src/config/registry.js';
import { ConfigService } from '../src/config/service.js';
import { versionId } from '../src/storage/config-store.js';
import { startEmbedded, type EmbeddedServer } from '../src/storage/embedded.js';
import { ConsoleSession } from '../src/offline/console-session.js';
import { createCommandContext } from '../src/discord/context.js';
import { OfflineDiscord } from '../src/offline/harness.js';
import { loadCommands } from '../src/discord/loader.js';
import { ADMIN_PERMISSIONS } from '../src/offline/simulated.js';
import { env } from '../src/app/env.js';
import { setLogLevel } from '../src/base/logger.js';
import { runScript } from './lib/run.js';
import { benchAudit } from './lib/bench-audit.js';
import { ArgsError } from './lib/args.js';
import { BENCH_USAGE, benchArgs } from './lib/bench-args.js';
import { openBenchDatabase } from './lib/bench-db.js';
import { roundTripsPerPut } from './lib/round-trips.js';
import { benchFlags } from './lib/bench-flags.js';
import { FlagStore } from '../src/flags/flags.js';
import { followSse } from './lib/sse.js';

// Set from the arguments before anything runs (main).
let json = false;
let quick = false;
const say = (s: string) => {
  if (!json) process.stderr.write(`${s}\n`);
};

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function benchRegistry() {
  const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
  for (let i = 0; i < 8; i++) {
    defs[`BENCH_WRITER_${i}`] = {
      ...integer({ min: 0, max: 1_000_000_000 }),
      category: 'system',
      description: `writer ${i}`,
      default: 0,
      sensitive: false,
      requiresRestart: false,
    } as KeyDefinition;
  }
  return buildRegistry(defs);
}

/** Per-call cost of `fn`, from batches of calls (single calls are below the timer's resolution). */
function perCallNs(fn: (i: number) => unknown, batches: number, perBatch: number): number[] {
  const out: number[] = [];
  let sink = 0;
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) if (fn(i) !== undefined) sink++;
    out.push(Number(process.hrtime.bigint() - t0) / perBatch);
  }
  if (sink < 0) process.stderr.write('');
  return out;
}

function child(args: object): {
  lines: AsyncIterator<string>;
  write(s: string): void;
  done: Promise<number>;
} {
  // The peer runs as this script does: compiled by `npm run bench`, or through tsx if started so.
  // It inherits the environment, so it does not read .env again.
  const here = fileURLToPath(import.meta.url);
  const peer = path.join(path.dirname(here), `bench-peer${path.extname(here)}`);
  const runtime = process.execArgv.filter((a) => !a.startsWith('--env-file'));
  const proc = spawn(process.execPath, [...runtime, peer, JSON.stringify(args)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return {
    lines,
    write: (s) => proc.stdin.write(s),
    done: new Promise((r) => proc.once('exit', (code) => r(code ?? 1))),
  };
}

/**
 * Against an API served by another process: commit here → event received by an SSE client of
 * that process; then the load check (SSE_CLIENTS streams open while READS_PER_S reads run for
 * LOAD_SECONDS, with a change every second that every stream must receive).
 */
async function apiFigures(o: {
  uri: string;
  dbName: string;
  config: ConfigService;
  admin: { id: string; tag: string };
  intervalMs: number;
}): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const peer = child({ mode: 'api', uri: o.uri, dbName: o.dbName, intervalMs: o.intervalMs });
  const { url } = JSON.parse(String((await peer.lines.next()).value)) as { url: string };
  const { token } = await new TokenStore(o.config.conn).create(
    { name: `bench-${Date.now()}`, access: 'read', actor: o.admin },
    o.config.environments,
  );
  const headers = { authorization: `Bearer ${token}` };
  const key = 'IMMEDIATE_EXPORT_BUFFER';
  let flip = 0;
  const commit = async () => {
    const r = await o.config.set(key, String(flip++ % 2 ? 10 : 20), o.admin).catch(() => undefined);
    return r?.seq !== undefined ? { seq: r.seq, at: Date.now() } : undefined;
  };

  say('API: commit here → SSE event from another process ...');
  const arrivals = new Map<number, number>();
  const one = followSse(`${url}/v1/events?keys=${key}`, headers, (ev) => {
    if (ev.event === 'change') arrivals.set(Number(ev.id), Date.now());
  });
  await one.opened;
  const sseMs: number[] = [];
  for (let i = 0; i < (quick ? 10 : 30); i++) {
    const c = await commit();
    if (!c) continue;
    const until = Date.now() + 10_000;
    while (!arrivals.has(c.seq) && Date.now() < until) await new Promise((res) => setTimeout(res, 1));
    const at = arrivals.get(c.seq);
    if (at !== undefined) sseMs.push(at - c.at);
    await new Promise((res) => setTimeout(res, 37 * (i % 7)));
  }
  one.close();
  out.sse_event_ms_p50 = pct(sseMs, 50);
  out.sse_event_ms_p99 = pct(sseMs, 99);

  say('API: flag change here → event: flag from another process ...');
  const flags = new FlagStore(o.config);
  await flags.load();
  const flagName = 'bench-rollout';
  if (!flags.get(flagName))
    await flags.create(
      { name: flagName, description: 'bench', type: 'ops', owner: 'bench', enabled: true },
      o.admin,
    );
  const flagArrivals = new Map<number, number>();
  const flagStream = followSse(`${url}/v1/events?keys=${key}`, headers, (ev) => {
    if (ev.event === 'flag') flagArrivals.set(Number(ev.id), Date.now());
  });
  await flagStream.opened;
  const flagMs: number[] = [];
  for (let i = 0; i < (quick ? 10 : 30); i++) {
    const at = Date.now();
    const w = await flags
      .update(flagName, (f) => ({ ...f, rollout: f.rollout === 50 ? 60 : 50 }), o.admin)
      .catch(() => undefined);
    if (w?.seq === undefined) continue;
    const until = Date.now() + 10_000;
    while (!flagArrivals.has(w.seq) && Date.now() < until) await new Promise((res) => setTimeout(res, 1));
    const got = flagArrivals.get(w.seq);
    if (got !== undefined) flagMs.push(got - at);
    await new Promise((res) => setTimeout(res, 37 * (i % 7)));
  }
  flagStream.close();
  out.flag_sse_event_ms_p50 = pct(flagMs, 50);
  out.flag_sse_event_ms_p99 = pct(flagMs, 99);

  const clients = 200;
  const readsPerS = 500;
  const seconds = quick ? 5 : 30;
  say(`API load: ${clients} SSE clients and ${readsPerS} reads/s for ${seconds} s ...`);
  const received = Array.from({ length: clients }, () => new Set<number>());
  const streams = received.map((seen) =>
    followSse(`${url}/v1/events`, headers, (ev) => {
      if (ev.event === 'change') seen.add(Number(ev.id));
    }),
  );
  const openFailures = (await Promise.allSettled(streams.map((s) => s.opened))).filter(
    (r) => r.status === 'rejected',
  ).length;
  const readMs: number[] = [];
  let readErrors = 0;
  const committed: number[] = [];
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const read = () => {
    const s = performance.now();
    const p = fetch(`${url}/v1/config/MAX_BATCH_SIZE`, { headers })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.status !== 200) readErrors++;
        else readMs.push(performance.now() - s);
      })
      .catch(() => {
        readErrors++;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let nextCommit = started + 1000;
  while (Date.now() - started < seconds * 1000) {
    // Keep to the rate: as many reads as should have been sent by now.
    const due = Math.floor(((Date.now() - started) / 1000) * readsPerS);
    while (sent < due) {
      read();
      sent++;
    }
    if (Date.now() >= nextCommit) {
      nextCommit += 1000;
      const c = await commit();
      if (c) committed.push(c.seq);
    }
    await new Promise((res) => setTimeout(res, 5));
  }
  const elapsed = (Date.now() - started) / 1000;
  await Promise.all([...inFlight]);
  // Changes committed near the end get a moment to arrive.
  const deadline = Date.now() + 3000;
  const missing = () => received.reduce((n, seen) => n + committed.filter((c) => !seen.has(c)).length, 0);
  while (missing() > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  for (const s of streams) s.close();
  peer.write('stop\n');
  await peer.done;
  out.load_sse_clients = clients;
  out.load_seconds = Math.round(elapsed);
  out.load_reads_per_s = readMs.length / elapsed;
  out.load_read_ms_p50 = pct(readMs, 50);
  out.load_read_ms_p99 = pct(readMs, 99);
  out.load_read_ms_max = pct(readMs, 100);
  out.load_read_errors = readErrors;
  out.load_sse_open_failures = openFailures;
  out.load_changes = committed.length;
  out.load_sse_events_missed = missing();
  return out;
}

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
  ({ json, quick } = args);
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
  const admin = { id: '100000000000000001', tag: 'bench' };

  say('flag evaluation, ours and unleash-client’s (offline) ...');
  Object.assign(result, await benchFlags(quick));

  say('get() vs Map.get ...');
  const keys = [...registry.keys()];
  const map = new Map(keys.map((k) => [k, config.get(k)]));
  for (let w = 0; w < 3; w++) {
    perCallNs((i) => config.get(keys[i % keys.length] ?? ''), 200, 1000);
    perCallNs((i) => map.get(keys[i % keys.length] ?? ''), 200, 1000);
  }
  const getNs = perCallNs((i) => config.get(keys[i % keys.length] ?? ''), 2000, 1000);
  const mapNs = perCallNs((i) => map.get(keys[i % keys.length] ?? ''), 2000, 1000);
  result.get_ns_p50 = pct(getNs, 50);
  result.get_ns_p99 = pct(getNs, 99);
  result.map_get_ns_p50 = pct(mapNs, 50);
  result.get_vs_map_ratio = result.get_ns_p50 / result.map_get_ns_p50;

  say('get() resolved through three layers (guild override, env override, global) ...');
  const layered = 'MAX_BATCH_SIZE';
  const guildId = '900000000000000001';
  await config.set(layered, '200', admin);
  await config.set(layered, '300', admin, undefined, {}, { scope: `env:${config.environment}` });
  // A server without its own override: the lookup walks guild (miss) → env (hit).
  const at = { guildId }; // as an application would hold it, not a new object per read
  for (let w = 0; w < 3; w++) perCallNs(() => config.get(layered, at), 200, 1000);
  const viaEnv = perCallNs(() => config.get(layered, at), 2000, 1000);
  await config.set(layered, '400', admin, undefined, {}, { scope: `guild:${guildId}` });
  for (let w = 0; w < 3; w++) perCallNs(() => config.get(layered, at), 200, 1000);
  const viaGuild = perCallNs(() => config.get(layered, at), 2000, 1000);
  // Map.get again, measured through the same (by now megamorphic) call site as the layered reads.
  const mapAgain = perCallNs((i) => map.get(keys[i % keys.length] ?? ''), 2000, 1000);
  result.get_layered_ns_p50 = Math.max(pct(viaEnv, 50), pct(viaGuild, 50));
  result.get_layered_vs_map_ratio = result.get_layered_ns_p50 / pct(mapAgain, 50);

  say('cache hit rate with changes arriving ...');
  const before = config.stats().cache;
  let writing = true;
  const writer = (async () => {
    let n = 0;
    while (writing) await config.set('BENCH_WRITER_0', String(++n), admin);
  })();
  const until = Date.now() + (quick ? 1000 : 3000);
  while (Date.now() < until) {
    for (let i = 0; i < 10_000; i++) config.get(keys[i % keys.length] ?? '');
    await new Promise((r) => setImmediate(r));
  }
  writing = false;
  await writer;
  const after = config.stats().cache;
  result.cache_hit_rate =
    (after.hits - before.hits) / (after.hits - before.hits + after.misses - before.misses);

  say('database round trips per write of a process that follows the log ...');
  result.db_round_trips_per_put = await roundTripsPerPut(uri, `${dbName}_trips`, quick ? 20 : 50);

  say('sequential set() ...');
  const setMs: number[] = [];
  const n = quick ? 100 : 300;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await config.set('BENCH_WRITER_1', String(i + 1), admin);
    setMs.push(performance.now() - s);
  }
  result.set_ms_p50 = pct(setMs, 50);
  result.set_ms_p99 = pct(setMs, 99);
  result.sets_per_s = n / ((performance.now() - t0) / 1000);

  say('8 concurrent writers on 8 keys ...');
  const per = quick ? 25 : 60;
  const c0 = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < per; i++) await config.set(`BENCH_WRITER_${w}`, String(1_000_000 + i), admin);
    }),
  );
  result.concurrent_sets_per_s = (8 * per) / ((performance.now() - c0) / 1000);

  say('/config set through the discord.js harness ...');
  const ctx = createCommandContext(config, {
    allowedGuildIds: ['100000000000000000'],
    adminRoleIds: [],
    confirmTimeoutMs: 60_000,
    // Measures the handler, not the per-user limit (which would refuse after 10 changes a minute).
    changesPerMinute: 10_000,
    attemptsPerMinute: 10_000,
  });
  const discord = new OfflineDiscord(await loadCommands(), ctx, '100000000000000020');
  const session = new ConsoleSession(discord, {
    applicationId: '100000000000000020',
    guildId: '100000000000000000',
    channelId: '100000000000000010',
    user: { id: '100000000000000001', username: 'bench' },
    permissions: ADMIN_PERMISSIONS,
    roles: [],
  });
  const interactionMs: number[] = [];
  for (let i = 0; i < (quick ? 50 : 200); i++) {
    const from = discord.calls.length;
    const start = Date.now();
    await session.run(`/config set setting:MAX_BATCH_SIZE value:${100 + (i % 500)}`);
    const first = discord.calls[from];
    if (first) interactionMs.push(first.at - start);
  }
  result.interaction_ms_p50 = pct(interactionMs, 50);
  result.interaction_ms_p99 = pct(interactionMs, 99);
  await discord.destroy();

  say('propagation to a second process ...');
  const peer = child({ mode: 'follow', uri, dbName, intervalMs: e.CONFIG_POLL_INTERVAL_MS });
  await peer.lines.next(); // ready
  const propagation: number[] = [];
  for (let i = 0; i < (quick ? 10 : 30); i++) {
    const r = await config
      .set('IMMEDIATE_EXPORT_BUFFER', String(i % 2 ? 10 : 20), admin)
      .catch(() => undefined);
    const committed = Date.now();
    if (!r) continue;
    for (;;) {
      const { value } = await peer.lines.next();
      const msg = JSON.parse(String(value)) as { key: string; version: number; at: number };
      if (msg.key === 'IMMEDIATE_EXPORT_BUFFER' && msg.version === r.version) {
        propagation.push(msg.at - committed);
        break;
      }
    }
    await new Promise((res) => setTimeout(res, 37 * (i % 7))); // spread commits over the poll cycle
  }
  peer.write('stop\n');
  await peer.done;
  result.propagation_ms_p50 = pct(propagation, 50);
  result.propagation_ms_p99 = pct(propagation, 99);
  result.poll_interval_ms = e.CONFIG_POLL_INTERVAL_MS;
  // The load polling puts on the database: one lookup by _id of the change marker per interval,
  // plus the change feed's look at the log's head (by _id) once a second.
  result.poll_queries_per_s_per_process = 1000 / e.CONFIG_POLL_INTERVAL_MS + 1;

  Object.assign(
    result,
    await apiFigures({ uri, dbName, config, admin, intervalMs: e.CONFIG_POLL_INTERVAL_MS }),
  );

  const versions = quick ? 10_000 : 100_000;
  say(`history page of one key with ${versions} versions (inserting) ...`);
  // Contiguous versions after the key's current one, then the current document moved to the newest,
  // exactly as that many set() calls would leave them (inserted in bulk to save time).
  const batch = 5000;
  const from = config.cachedVersion('BENCH_WRITER_7') + 1;
  const top = from + versions - 1;
  const base = Date.now() - versions * 1000;
  for (let v = from; v <= top; v += batch) {
    const docs = [];
    for (let k = v; k < Math.min(v + batch, top + 1); k++) {
      docs.push({
        _id: versionId('BENCH_WRITER_7', k),
        key: 'BENCH_WRITER_7',
        version: k,
        value: k,
        action: 'set',
        actor: admin,
        createdAt: new Date(base + (k - from) * 1000),
      });
    }
    await conn.collection<{ _id: string }>('config_versions').insertMany(docs);
  }
  await conn
    .collection('system_configs')
    .updateOne(
      { _id: 'BENCH_WRITER_7' as never },
      { $set: { version: top, value: top, updatedAt: new Date() } },
    );
  const pageMs: number[] = [];
  for (let i = 0; i < (quick ? 20 : 30); i++) {
    const before = from + 25 + Math.floor(Math.random() * (versions - 25));
    const s = performance.now();
    await config.history('BENCH_WRITER_7', { limit: 25, before });
    pageMs.push(performance.now() - s);
  }
  result.history_page_ms_p99 = pct(pageMs, 99);
  result.history_versions = versions;

  const chained = quick ? 10_000 : 100_000;
  say(`audit log: appends, and a verify of a ${chained}-row chain ...`);
  Object.assign(result, await benchAudit(config, conn, chained));

  // The start-up figure needs an empty database: the same one, emptied (a URI may allow no other).
  await config.close();
  await conn.dropDatabase();
  const count = quick ? 1000 : 10_000;
  say(`start-up of a process with ${count} keys ...`);
  const seed = child({ mode: 'startup', uri, dbName, keys: count });
  const seeded = JSON.parse(String((await seed.lines.next()).value)) as { startup_ms: number };
  await seed.done;
  const load = child({ mode: 'startup', uri, dbName, keys: count });
  const loaded = JSON.parse(String((await load.lines.next()).value)) as {
    startup_ms: number;
    rss_mb: number;
  };
  await load.done;
  result.first_start_seed_ms = seeded.startup_ms;
  result.startup_ms = loaded.startup_ms;
  result.rss_mb = loaded.rss_mb;
  result.startup_keys = count;

  await conn.dropDatabase();
  await conn.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });

  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const rows = Object.entries(result).map(
    ([k, v]) =>
      `${k.padEnd(24)} ${typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v}`,
  );
  process.stdout.write(`${rows.join('\n')}\n`);
}

runScript(main);
