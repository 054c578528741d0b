import type { Connection } from 'mongoose';
import type { ConfigService } from '../../src/config/service.js';
import { versionId } from '../../src/storage/config-store.js';
import { BENCH_ADMIN, Peer, pct, type BenchRun } from './bench-common.js';

/** A history page (25 rows) of one key with 100,000 versions (10,000 with --quick). */
export async function historyFigures(
  run: BenchRun,
  config: ConfigService,
  conn: Connection,
): Promise<Record<string, number>> {
  const versions = run.quick ? 10_000 : 100_000;
  run.say(`history page of one key with ${versions} versions (inserting) ...`);
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
        actor: BENCH_ADMIN,
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
  for (let i = 0; i < (run.quick ? 20 : 30); i++) {
    const before = from + 25 + Math.floor(Math.random() * (versions - 25));
    const s = performance.now();
    await config.history('BENCH_WRITER_7', { limit: 25, before });
    pageMs.push(performance.now() - s);
  }
  return { history_page_ms_p99: pct(pageMs, 99), history_versions: versions };
}

/**
 * Start-up of a process loading 10,000 keys (1,000 with --quick), in an empty database: the
 * first start seeds it, the second is the figure.
 */
export async function startupFigures(
  run: BenchRun,
  uri: string,
  dbName: string,
): Promise<Record<string, number>> {
  const count = run.quick ? 1000 : 10_000;
  run.say(`start-up of a process with ${count} keys ...`);
  const seed = new Peer({ mode: 'startup', uri, dbName, keys: count });
  const seeded = (await seed.next()) as { startup_ms: number };
  await seed.done;
  const load = new Peer({ mode: 'startup', uri, dbName, keys: count });
  const loaded = (await load.next()) as { startup_ms: number; rss_mb: number };
  await load.done;
  return {
    first_start_seed_ms: seeded.startup_ms,
    startup_ms: loaded.startup_ms,
    rss_mb: loaded.rss_mb,
    startup_keys: count,
  };
}
