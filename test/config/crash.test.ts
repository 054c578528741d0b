import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../src/base/logger.js';
import { bindModels } from '../../src/storage/config-models.js';
import type { ConfigService } from '../../src/config/service.js';
import { connect } from '../../src/storage/connection.js';
import {
  actor,
  openService,
  openTestDb,
  skipWithoutOwnServer,
  startOwnServer,
  type OwnServer,
} from '../helpers/db.js';
import { outcome, type Outcome as WriteOutcome } from '../helpers/outcome.js';

const erin = actor('555555555555555555', 'erin');

/** One writer per key, each value different from the one before, so every set is a real change. */
const WRITES: Record<string, (i: number) => string> = {
  MAX_BATCH_SIZE: (i) => String(101 + (i % 800)),
  IMMEDIATE_EXPORT_BUFFER: (i) => String(i % 2 ? 10 : 20),
  AI_CONFIDENCE_THRESHOLD: (i) => (0.6 + (i % 30) / 100).toFixed(2),
  DAILY_EXPORT_TIME: (i) => `${18 + (i % 4)}:${String(i % 60).padStart(2, '0')}`,
};

/**
 * How long the writers run before each kill: varied, so that a round whose kill falls between
 * writes is followed by one whose kill falls elsewhere. A round that cut no write proves nothing
 * about repair, so rounds go on (each on a fresh database) until one has cut a write.
 */
const KILL_AFTER_MS = [400, 230, 610, 170, 520, 290, 750, 350];

interface Outcome {
  result: WriteOutcome;
  ms: number;
}

/** Sets `key` over and over until a write fails (the server is gone). */
async function writeUntilDown(
  svc: ConfigService,
  key: string,
  next: (i: number) => string,
): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 1; ; i++) {
    const started = Date.now();
    const result = await outcome(svc.set(key, next(i), erin));
    out.push({ result, ms: Date.now() - started });
    if (!result.ok) return out;
  }
}

/**
 * One round on a fresh database: writers on every key, the server killed under them, then a
 * restart. Checks every invariant and returns the keys whose newest version was cut before its
 * current value moved (read before anything could repair them).
 */
async function killDuringWrites(
  server: OwnServer,
  round: number,
): Promise<{ writes: number; cut: string[] }> {
  const db = await openTestDb(`crash_${round}`, server.uri);
  const svc = await openService(db);
  const running = Object.entries(WRITES).map(([key, next]) => writeUntilDown(svc, key, next));
  await new Promise((r) => setTimeout(r, KILL_AFTER_MS[round]));
  await server.kill();
  const outcomes = (await Promise.all(running)).flat();

  for (const { result, ms } of outcomes) {
    expect(ms).toBeLessThan(5000);
    if (result.ok) continue;
    expect(result.error.code).toBe('UNAVAILABLE');
    expect(result.error.message).toMatch(
      /Database unavailable, nothing was changed|became unavailable while saving .* was recorded/,
    );
  }
  expect(outcomes.filter((o) => o.result.ok).length).toBeGreaterThan(0);
  await svc.close();
  await db.conn.close();

  // The bot restarts with the server: a new connection and service on the same files.
  await server.restart();
  const conn = await connect({ uri: server.uri, dbName: db.dbName, timeoutMs: 5000 });
  try {
    const m = bindModels(conn);
    const cut: string[] = [];
    for (const key of Object.keys(WRITES)) {
      const newest = await m.ConfigVersion.findOne({ key }).sort({ version: -1 }).lean();
      const cur = await m.SystemConfig.findOne({ key }).lean();
      if ((cur?.version ?? 0) < (newest?.version ?? 0)) cut.push(`${key} v${newest?.version}`);
    }

    const restarted = await openService({ ...db, conn });
    try {
      for (const key of Object.keys(WRITES)) {
        const versions = await m.ConfigVersion.find({ key }).sort({ version: 1 }).lean();
        expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
        const newest = versions.at(-1);
        expect(await m.SystemConfig.findOne({ key }).lean()).toMatchObject({
          version: newest?.version,
          value: newest?.value,
        });
        expect(restarted.get(key), `${key} after the restart`).toEqual(newest?.value);
        for (const v of versions) {
          const rows = await m.ConfigAudit.countDocuments({ key, version: v.version, status: 'success' });
          expect(rows, `${key} v${v.version} success audit rows`).toBe(1);
        }
        // Every version is in the change log once, in version order.
        const logged = await m.ConfigChange.find({ key }).sort({ _id: 1 }).lean();
        expect(
          logged.map((c) => c.version),
          `${key} in the change log`,
        ).toEqual(versions.map((v) => v.version));
        // Every write that was answered "done" is in the history with its value.
        for (const { result } of outcomes) {
          if (result.ok && result.key === key)
            expect(versions[result.version - 1]?.value).toEqual(result.value);
        }
      }
      // Positions have no gaps: a stream that saw N has seen everything before it.
      const positions = (await m.ConfigChange.find({}, { _id: 1 }).sort({ _id: 1 }).lean()).map((c) => c._id);
      expect(positions).toEqual(positions.map((_, i) => i + 1));
    } finally {
      await restarted.close();
    }
    await conn.dropDatabase();
    return { writes: outcomes.length, cut };
  } finally {
    await conn.close();
  }
}

let own: Awaited<ReturnType<typeof startOwnServer>>;
beforeAll(async () => {
  own = await startOwnServer();
});
afterAll(async () => {
  await own?.server?.cleanup();
});

describe('the database server killed (SIGKILL) in the middle of concurrent writes', () => {
  it(
    'answers every write within 5 s, and a restart completes every write cut between its version and its current value',
    { timeout: 180_000 },
    async (ctx) => {
      const server = skipWithoutOwnServer(own, ctx, 'crash test');
      const rounds: string[] = [];
      let cut: string[] = [];
      for (let round = 0; round < KILL_AFTER_MS.length && cut.length === 0; round++) {
        const r = await killDuringWrites(server, round);
        cut = r.cut;
        rounds.push(
          `round ${round + 1} (kill after ${KILL_AFTER_MS[round]} ms): ${r.writes} writes, cut: ${cut.join(', ') || 'none'}`,
        );
      }
      // Shown with the test's output if it fails (test/setup/quiet-logs.ts).
      logger.info(`crash test:\n  ${rounds.join('\n  ')}`);
      expect(
        cut,
        `no kill in ${rounds.length} rounds landed between a version and its current value, so repair was not exercised`,
      ).not.toEqual([]);
    },
  );
});
