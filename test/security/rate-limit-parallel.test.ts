import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { spawnTs } from '../helpers/process.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb('rate_parallel');
});
afterAll(async () => {
  await db.drop();
});

type Outcome = { ok: true } | { ok: false; code: string; message: string };

/**
 * Two limiter processes (test/fixtures/rate-limiter.ts) of one user that start together on a
 * signal and make all their attempts at once; the outcomes of both.
 */
async function race(job: {
  actorId: string;
  limits: { changes: number; attempts: number };
  commit?: boolean;
}): Promise<Outcome[]> {
  const procs = [0, 1].map(() =>
    spawnTs('test/fixtures/rate-limiter.ts', [
      JSON.stringify({ uri: db.uri, dbName: db.dbName, attempts: 10, ...job }),
    ]),
  );
  onTestFinished(() => void procs.forEach((p) => p.proc.exitCode === null && p.proc.kill('SIGKILL')));
  // Generous waits: a child starting (tsx, connect) on a loaded machine, not a speed claim.
  for (const p of procs) expect(await p.nextLine(30_000, 'ready')).toBe('ready');
  for (const p of procs) p.proc.stdin.write('go\n');
  return (
    await Promise.all(
      procs.map(async (p) => JSON.parse(await p.nextLine(30_000, 'the results')) as Outcome[]),
    )
  ).flat();
}

const refusals = (outcomes: Outcome[]) => outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);

/** The seconds a refusal says to wait. */
const waitOf = (message: string) => Number(/try again in (\d+) s\.$/.exec(message)?.[1]);

describe('the write limits under parallel attempts of one user', () => {
  it(
    '20 attempts from two OS processes against WRITE_ATTEMPTS_PER_MIN 5 let exactly 5 through',
    { timeout: 90_000 },
    async () => {
      const outcomes = await race({ actorId: 'parallel-attempts', limits: { changes: 100, attempts: 5 } });
      expect(outcomes).toHaveLength(20);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(5);
      const refused = refusals(outcomes);
      expect(refused.every((r) => r.code === 'RATE_LIMITED')).toBe(true);
      for (const r of refused) {
        expect(r.message).toMatch(
          /^Too many attempts: 5 in the last minute \(refused ones count too\), and the limit is 5\. Nothing was changed; try again in \d+ s\.$/,
        );
        expect(waitOf(r.message)).toBeGreaterThanOrEqual(1);
        expect(waitOf(r.message)).toBeLessThanOrEqual(60);
      }
    },
  );

  it(
    '20 committed writes from two OS processes against WRITE_RATE_LIMIT_PER_MIN 5 let exactly 5 through',
    { timeout: 90_000 },
    async () => {
      const outcomes = await race({
        actorId: 'parallel-changes',
        limits: { changes: 5, attempts: 100 },
        commit: true,
      });
      expect(outcomes).toHaveLength(20);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(5);
      for (const r of refusals(outcomes)) {
        expect(r.message).toMatch(
          /^You made 5 changes in the last minute, and the limit is 5\. Nothing was changed; try again in \d+ s\.$/,
        );
        expect(waitOf(r.message)).toBeGreaterThanOrEqual(1);
        expect(waitOf(r.message)).toBeLessThanOrEqual(60);
      }
    },
  );
});
