import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { spawnTs, type Child } from '../helpers/process.js';

const INTERVAL_MS = 500; // the CONFIG_POLL_INTERVAL_MS default
let db: TestDb;
let a: Child;
let b: Child;

interface Line {
  type: string;
  ok?: boolean;
  key?: string;
  value?: unknown;
  version?: number;
  at?: number;
  cron?: string;
  nextRun?: number;
  sync?: string;
}

/** Reads lines of a child until one matches. */
async function waitFor(child: Child, match: (l: Line) => boolean, timeoutMs = 10_000): Promise<Line> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error('timed out waiting for a line');
    const line = await Promise.race([child.nextLine(), sleep(remaining).then(() => '')]);
    if (!line) continue;
    const parsed = JSON.parse(line) as Line;
    if (match(parsed)) return parsed;
  }
}

function start(instance: string): Child {
  return spawnTs('test/fixtures/instance.ts', [
    JSON.stringify({ uri: db.uri, dbName: db.dbName, intervalMs: INTERVAL_MS, instance }),
  ]);
}

beforeAll(async () => {
  db = await openTestDb('multiprocess');
  // Both start together: seeding races between them too.
  [a, b] = [start('A'), start('B')];
  for (const c of [a, b]) expect((await waitFor(c, (l) => l.type === 'ready')).sync).toBe('polling');
});
afterAll(async () => {
  for (const c of [a, b]) {
    c.proc.stdin.write('stop\n');
    await new Promise((r) => c.proc.once('exit', r));
  }
  await db.drop();
});

describe('two bot processes on one database', () => {
  it("a set in one reaches the other's get() within 2 x the poll interval", async () => {
    a.proc.stdin.write('set MAX_BATCH_SIZE 321\n');
    const committed = await waitFor(a, (l) => l.type === 'set');
    expect(committed.ok).toBe(true);
    const seen = await waitFor(b, (l) => l.type === 'change' && l.key === 'MAX_BATCH_SIZE');
    expect(seen).toMatchObject({ value: 321, version: committed.version });
    process.stderr.write(
      `[propagation] ${(seen.at ?? 0) - (committed.at ?? 0)} ms (poll interval ${INTERVAL_MS} ms)\n`,
    );
    expect((seen.at ?? 0) - (committed.at ?? 0)).toBeLessThan(2 * INTERVAL_MS);
    b.proc.stdin.write('get MAX_BATCH_SIZE\n');
    expect((await waitFor(b, (l) => l.type === 'get')).value).toBe(321);
  });

  it("a schedule change in one reschedules the other's job within 2 x the poll interval", async () => {
    a.proc.stdin.write('set TEST_CRON * * * * * *\n');
    const committed = await waitFor(a, (l) => l.type === 'set');
    const seen = await waitFor(b, (l) => l.type === 'change' && l.key === 'TEST_CRON');
    expect(seen.cron).toBe('* * * * * *');
    expect((seen.at ?? 0) - (committed.at ?? 0)).toBeLessThan(2 * INTERVAL_MS);
    expect((seen.nextRun ?? 0) - (seen.at ?? 0)).toBeLessThanOrEqual(1000);
  });

  it('a job due in both processes runs exactly once per scheduled time', async () => {
    await sleep(4000);
    a.proc.stdin.write('set TEST_CRON 0 0 1 1 *\n');
    await waitFor(b, (l) => l.type === 'change' && l.key === 'TEST_CRON');
    await sleep(1200);
    const hits = await db.conn.collection<{ slot: Date; instance: string }>('job_hits').find().toArray();
    const slots = hits.map((h) => h.slot.toISOString());
    expect(hits.length).toBeGreaterThanOrEqual(3);
    expect(new Set(slots).size).toBe(slots.length);
    const runs = await db.conn.collection('job_runs').countDocuments({ job: 'hit-job' });
    expect(runs).toBe(hits.length);
  });
});
