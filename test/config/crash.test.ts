import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/config/models.js';
import type { ConfigService, WriteResult } from '../../src/config/service.js';
import { connect } from '../../src/db/connection.js';
import { actor, openService, skipWithoutOwnServer, useOwnServer } from '../helpers/db.js';

const f = useOwnServer('crash');
const erin = actor('555555555555555555', 'erin');

/** One writer per key, each value different from the one before, so every set is a real change. */
const WRITES: Record<string, (i: number) => string> = {
  MAX_BATCH_SIZE: (i) => String(101 + (i % 800)),
  IMMEDIATE_EXPORT_BUFFER: (i) => String(i % 2 ? 10 : 20),
  AI_CONFIDENCE_THRESHOLD: (i) => (0.6 + (i % 30) / 100).toFixed(2),
  DAILY_EXPORT_TIME: (i) => `${18 + (i % 4)}:${String(i % 60).padStart(2, '0')}`,
};

interface Outcome {
  result: WriteResult;
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
    const result = await svc.set(key, next(i), erin);
    out.push({ result, ms: Date.now() - started });
    if (!result.ok) return out;
  }
}

describe('the database server killed (SIGKILL) in the middle of concurrent writes', () => {
  it('answers every write within 5 s and leaves nothing half-written after a restart', async (ctx) => {
    const server = skipWithoutOwnServer(f, ctx, 'crash test');
    const { db, svc } = f;
    const running = Object.entries(WRITES).map(([key, next]) => writeUntilDown(svc, key, next));
    await new Promise((r) => setTimeout(r, 400));
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

    // The bot restarts with the server: a new connection and service on the same files.
    await server.restart();
    const conn = await connect({ uri: server.uri, dbName: db.dbName, timeoutMs: 5000 });
    try {
      const m = bindModels(conn);
      const cut: string[] = [];
      for (const key of Object.keys(WRITES)) {
        const newest = await m.ConfigVersion.countDocuments({ key });
        const cur = await m.SystemConfig.findOne({ key }).lean();
        if ((cur?.version ?? 0) < newest) cut.push(`${key} v${newest}`);
      }
      process.stderr.write(
        `crash test: ${outcomes.length} writes, cut between version and current value: ${cut.join(', ') || 'none'}\n`,
      );

      const restarted = await openService({ ...db, conn });
      for (const key of Object.keys(WRITES)) {
        const versions = await m.ConfigVersion.find({ key }).sort({ version: 1 }).lean();
        expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
        const newest = versions.at(-1);
        expect(await m.SystemConfig.findOne({ key }).lean()).toMatchObject({
          version: newest?.version,
          value: newest?.value,
        });
        expect(restarted.get(key)).toEqual(newest?.value);
        for (const v of versions) {
          const rows = await m.ConfigAudit.countDocuments({ key, version: v.version, status: 'success' });
          expect(rows, `${key} v${v.version} success audit rows`).toBe(1);
        }
        // Every write that was answered "done" is in the history with its value.
        for (const { result } of outcomes) {
          if (result.ok && result.key === key)
            expect(versions[result.version - 1]?.value).toEqual(result.value);
        }
      }
      await restarted.close();
    } finally {
      await conn.close();
    }
  });
});
