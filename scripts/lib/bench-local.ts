import { integer } from '../../src/config/kinds.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import type { ConfigService } from '../../src/config/service.js';
import { ConsoleSession } from '../../src/offline/console-session.js';
import { createCommandContext } from '../../src/discord/context.js';
import { OfflineDiscord } from '../../src/offline/harness.js';
import { loadCommands } from '../../src/discord/loader.js';
import { ADMIN_PERMISSIONS } from '../../src/offline/simulated.js';
import { BENCH_ADMIN, pct, type BenchRun } from './bench-common.js';

/** The registry, with eight keys for the writers of the bench. */
export function benchRegistry() {
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

/** Reads in this process: get() against a bare Map, through override layers, and while writes land. */
export async function readFigures(run: BenchRun, config: ConfigService): Promise<Record<string, number>> {
  const admin = BENCH_ADMIN;
  const out: Record<string, number> = {};
  run.say('get() vs Map.get ...');
  const keys = [...registry.keys()];
  const map = new Map(keys.map((k) => [k, config.get(k)]));
  for (let w = 0; w < 3; w++) {
    perCallNs((i) => config.get(keys[i % keys.length] ?? ''), 200, 1000);
    perCallNs((i) => map.get(keys[i % keys.length] ?? ''), 200, 1000);
  }
  const getNs = perCallNs((i) => config.get(keys[i % keys.length] ?? ''), 2000, 1000);
  const mapNs = perCallNs((i) => map.get(keys[i % keys.length] ?? ''), 2000, 1000);
  out.get_ns_p50 = pct(getNs, 50);
  out.get_ns_p99 = pct(getNs, 99);
  out.map_get_ns_p50 = pct(mapNs, 50);
  out.get_vs_map_ratio = out.get_ns_p50 / out.map_get_ns_p50;

  run.say('get() resolved through three layers (guild override, env override, global) ...');
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
  out.get_layered_ns_p50 = Math.max(pct(viaEnv, 50), pct(viaGuild, 50));
  out.get_layered_vs_map_ratio = out.get_layered_ns_p50 / pct(mapAgain, 50);

  run.say('cache hit rate with changes arriving ...');
  const before = config.stats().cache;
  let writing = true;
  const writer = (async () => {
    let n = 0;
    while (writing) await config.set('BENCH_WRITER_0', String(++n), admin);
  })();
  const until = Date.now() + (run.quick ? 1000 : 3000);
  while (Date.now() < until) {
    for (let i = 0; i < 10_000; i++) config.get(keys[i % keys.length] ?? '');
    await new Promise((r) => setImmediate(r));
  }
  writing = false;
  await writer;
  const after = config.stats().cache;
  out.cache_hit_rate = (after.hits - before.hits) / (after.hits - before.hits + after.misses - before.misses);
  return out;
}

/** Writes in this process: sequential set(), then 8 concurrent writers on 8 keys. */
export async function writeFigures(run: BenchRun, config: ConfigService): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  run.say('sequential set() ...');
  const setMs: number[] = [];
  const n = run.quick ? 100 : 300;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await config.set('BENCH_WRITER_1', String(i + 1), BENCH_ADMIN);
    setMs.push(performance.now() - s);
  }
  out.set_ms_p50 = pct(setMs, 50);
  out.set_ms_p99 = pct(setMs, 99);
  out.sets_per_s = n / ((performance.now() - t0) / 1000);

  run.say('8 concurrent writers on 8 keys ...');
  const per = run.quick ? 25 : 60;
  const c0 = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < per; i++) await config.set(`BENCH_WRITER_${w}`, String(1_000_000 + i), BENCH_ADMIN);
    }),
  );
  out.concurrent_sets_per_s = (8 * per) / ((performance.now() - c0) / 1000);
  return out;
}

/** `/config set` through the discord.js harness: interaction in → first response out. */
export async function interactionFigures(
  run: BenchRun,
  config: ConfigService,
): Promise<Record<string, number>> {
  run.say('/config set through the discord.js harness ...');
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
  for (let i = 0; i < (run.quick ? 50 : 200); i++) {
    const from = discord.calls.length;
    const start = Date.now();
    await session.run(`/config set setting:MAX_BATCH_SIZE value:${100 + (i % 500)}`);
    const first = discord.calls[from];
    if (first) interactionMs.push(first.at - start);
  }
  await discord.destroy();
  return { interaction_ms_p50: pct(interactionMs, 50), interaction_ms_p99: pct(interactionMs, 99) };
}
