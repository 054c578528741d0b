import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { versionId } from '../../src/storage/config-store.js';
import { bindModels } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { ConfigService } from '../../src/config/service.js';
import { connect } from '../../src/storage/connection.js';
import { openService, openTestDb, type TestDb } from '../helpers/db.js';
import { spawnTs } from '../helpers/process.js';
import { outcome } from '../helpers/outcome.js';

let db: TestDb;
let svc: ConfigService;

beforeAll(async () => {
  db = await openTestDb('concurrency');
  svc = await openService(db);
});
afterAll(async () => {
  await svc.close();
  await db.drop();
});

interface Outcome {
  ok: boolean;
  version?: number;
  value?: number;
  code?: string;
}

/**
 * Two writer processes (test/fixtures/writer.ts) that start together on a signal and fire all
 * their writes at once; the outcomes of both, once they answered.
 */
async function race(
  jobs: { key: string; scope?: string; values: string[]; actorId: string }[],
): Promise<Outcome[]> {
  const writers = jobs.map((job) =>
    spawnTs('test/fixtures/writer.ts', [JSON.stringify({ uri: db.uri, dbName: db.dbName, ...job })]),
  );
  // A writer left waiting by a failed assertion must not outlive the test.
  onTestFinished(() => void writers.forEach((w) => w.proc.exitCode === null && w.proc.kill('SIGKILL')));
  // Generous waits: a child starting (tsx, connect) on a loaded 2-core machine, not a speed claim.
  for (const w of writers) expect(await w.nextLine(30_000, 'ready')).toBe('ready');
  for (const w of writers) w.proc.stdin.write('go\n');
  return (
    await Promise.all(
      writers.map(async (w) => JSON.parse(await w.nextLine(30_000, 'the results')) as Outcome[]),
    )
  ).flat();
}

describe('concurrent writers', () => {
  it(
    'an override written by two OS processes at once gets its own contiguous versions from 1',
    { timeout: 90_000 },
    async () => {
      const key = 'AI_CONFIDENCE_THRESHOLD';
      const scope = 'env:production';
      const outcomes = await race(
        [0, 1].map((w) => ({
          key,
          scope,
          values: Array.from({ length: 6 }, (_, i) => `0.${6 + w}${i}`),
          actorId: `scoped${w}`,
        })),
      );
      expect(outcomes.filter((o) => !o.ok).every((o) => o.code === 'CONFLICT')).toBe(true);
      const wins = outcomes.filter((o) => o.ok);
      const m = bindModels(db.conn);
      const versions = await m.ConfigVersion.find({ key: `${key}|${scope}` })
        .sort({ version: 1 })
        .lean();
      // Version 1 is the first override: nothing is seeded at an override scope.
      expect(versions.map((v) => v.version)).toEqual(wins.map((_, i) => i + 1));
      for (const o of wins) expect(versions[(o.version ?? 0) - 1]?.value).toBe(o.value);
      // The global value's versions are untouched.
      expect(await m.ConfigVersion.countDocuments({ key })).toBe(1);
      await svc.refresh();
      await svc.catchUp(`${key}|${scope}`);
      expect(svc.get(key)).toBe(versions.at(-1)?.value);
    },
  );

  it(
    '20 concurrent sets from two OS processes give contiguous versions and one audit row each',
    { timeout: 90_000 },
    async () => {
      const key = 'MAX_BATCH_SIZE';
      const outcomes = await race(
        [0, 1].map((w) => ({
          key,
          values: Array.from({ length: 10 }, (_, i) => String(200 + w * 100 + i)),
          actorId: `writer${w}`,
        })),
      );

      expect(outcomes).toHaveLength(20);
      const wins = outcomes.filter((o) => o.ok);
      // A writer that exhausts its retries must say so with the conflict error, never anything else.
      expect(outcomes.filter((o) => !o.ok).every((o) => o.code === 'CONFLICT')).toBe(true);
      expect(wins.length).toBeGreaterThanOrEqual(10);

      const m = bindModels(db.conn);
      const versions = await m.ConfigVersion.find({ key }).sort({ version: 1 }).lean();
      expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
      expect(versions).toHaveLength(1 + wins.length);
      // Every winner got its own version, holding its own value.
      expect(new Set(wins.map((o) => o.version)).size).toBe(wins.length);
      for (const o of wins) expect(versions[(o.version ?? 0) - 1]?.value).toBe(o.value);

      const audits = await m.ConfigAudit.find({ key, action: 'set' }).lean();
      expect(audits).toHaveLength(20);
      expect(audits.filter((a) => a.status === 'success')).toHaveLength(wins.length);

      // refresh() completes any key whose current document lags its versions. On MongoDB nothing
      // lags here; FerretDB 1.x runs updateOne as read-then-write, so a racing stale update can
      // leave the current document behind until the next write or refresh repairs it.
      await svc.refresh();
      const current = await m.SystemConfig.findOne({ key }).lean();
      expect(current?.version).toBe(versions.length);
      expect(current?.value).toBe(versions.at(-1)?.value);
      expect(svc.get(key)).toBe(current?.value);
    },
  );

  it('reports "changed concurrently" when retries run out', async () => {
    const m = bindModels(db.conn);
    const noRetry = await openService(db, { writeRetries: 0 });
    // Another writer takes the next version number between our read and our write.
    const cur = await m.SystemConfig.findOne({ key: 'IMMEDIATE_EXPORT_BUFFER' }).lean();
    await m.ConfigVersion.collection.insertOne({
      _id: versionId('IMMEDIATE_EXPORT_BUFFER', (cur?.version ?? 0) + 1) as never,
      key: 'IMMEDIATE_EXPORT_BUFFER',
      version: (cur?.version ?? 0) + 1,
      value: 60,
      action: 'set',
      actor: { id: 'other', tag: 'other' },
      createdAt: new Date(),
    });
    const res = await outcome(noRetry.set('IMMEDIATE_EXPORT_BUFFER', '15', { id: 'me', tag: 'me' }));
    expect(!res.ok && res.error.code).toBe('CONFLICT');
    expect(!res.ok && res.error.message).toMatch(/changed concurrently.*try again/);
    // The losing attempt completed the other writer's change rather than leaving it half-done.
    expect((await m.SystemConfig.findOne({ key: 'IMMEDIATE_EXPORT_BUFFER' }).lean())?.value).toBe(60);
    await noRetry.close();
  });
});

describe('two processes starting together on an empty database', () => {
  it('each starts holding every key, whichever of them seeded it', async () => {
    // Each round is a fresh database, so both race to seed every key; the one that loses a key
    // must still hold it: until its first refresh it would serve the default, and a change made
    // meanwhile would be loaded silently, never reaching its listeners (scheduler, sync).
    for (let round = 0; round < 5; round++) {
      const first = await openTestDb(`seed_race_${round}`);
      const secondConn = await connect({ uri: first.uri, dbName: first.dbName, timeoutMs: 3000 });
      const services = [first.conn, secondConn].map((conn) => new ConfigService({ registry, conn }));
      onTestFinished(async () => {
        for (const s of services) await s.close();
        await secondConn.close();
        await first.drop();
      });
      await Promise.all(services.map((s) => s.init()));
      const held = services.map((s) => [...registry.keys()].filter((k) => s.cachedVersion(k) > 0));
      expect(held, `round ${round}: keys each service holds`).toEqual([
        [...registry.keys()],
        [...registry.keys()],
      ]);
    }
  });
});
