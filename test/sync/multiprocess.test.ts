import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../../src/base/logger.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { spawnTs, type Child } from '../helpers/process.js';

const INTERVAL_MS = 500; // CONFIG_POLL_INTERVAL_MS of the two processes
/** Starting a child (tsx, connect, seed) on a loaded 2-core machine: a wait, not a speed claim. */
const START_MS = 30_000;
/** How long a wait for a line lasts; the propagation claims are checked on timestamps instead. */
const WAIT_MS = 10_000;
const YEARLY = '0 0 1 1 *'; // TEST_CRON's default: the job never runs during a test
const EVERY_SECOND = '* * * * * *';

let db: TestDb;
let a: Child;
let b: Child;
const ready = new Map<string, Line>();

interface Line {
  type: string;
  ok?: boolean;
  error?: string;
  key?: string;
  value?: unknown;
  version?: number;
  at?: number;
  cron?: string;
  nextRun?: number;
  sync?: string;
  held?: number;
  registered?: number;
}

/** Reads lines of a child until one matches; the error names what it waited for and what it read. */
async function waitFor(
  child: Child,
  what: string,
  match: (l: Line) => boolean,
  timeoutMs = WAIT_MS,
): Promise<Line> {
  const deadline = Date.now() + timeoutMs;
  const skipped: string[] = [];
  for (;;) {
    let line: string;
    try {
      line = await child.nextLine(Math.max(1, deadline - Date.now()), what);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nlines read meanwhile: ${skipped.join('\n') || 'none'}`);
    }
    const parsed = JSON.parse(line) as Line;
    if (match(parsed)) return parsed;
    skipped.push(line);
  }
}

/**
 * Sets a key in a child and returns its answer (a `set` line, ok or not). The child's own change
 * line comes before its answer and is read past here.
 */
async function setIn(child: Child, key: string, value: string): Promise<Line> {
  child.proc.stdin.write(`set ${key} ${value}\n`);
  return waitFor(child, `the answer to set ${key} ${value}`, (l) => l.type === 'set' && l.key === key);
}

/** The change line a child prints for exactly this version (leftovers of earlier changes are skipped). */
function changeOf(child: Child, key: string, version: number | undefined): Promise<Line> {
  return waitFor(
    child,
    `the change of ${key} to v${version}`,
    (l) => l.type === 'change' && l.key === key && l.version === version,
  );
}

/** Puts TEST_CRON back to its default in both processes, whatever a test left it at. */
async function restoreSchedule(): Promise<void> {
  const set = await setIn(a, 'TEST_CRON', YEARLY);
  if (!set.ok) return expect(set.error).toBe('UNCHANGED');
  await changeOf(b, 'TEST_CRON', set.version);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

function start(instance: string): Child {
  return spawnTs('test/fixtures/instance.ts', [
    JSON.stringify({ uri: db.uri, dbName: db.dbName, intervalMs: INTERVAL_MS, instance }),
  ]);
}

beforeAll(async () => {
  db = await openTestDb('multiprocess');
  // Both start together on an empty database: seeding races between them too.
  [a, b] = [start('A'), start('B')];
  for (const [name, c] of [
    ['A', a],
    ['B', b],
  ] as const) {
    ready.set(name, await waitFor(c, `${name} to be ready`, (l) => l.type === 'ready', START_MS));
  }
});
afterAll(async () => {
  for (const c of [a, b]) {
    if (!c) continue;
    c.proc.stdin.write('stop\n');
    await Promise.race([c.closed(), sleep(10_000)]);
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  }
  await db?.drop();
});

describe('two bot processes on one database', () => {
  it('both, started together on an empty database, follow by polling and hold every key once ready', () => {
    for (const name of ['A', 'B']) {
      const line = ready.get(name);
      expect(line?.sync, `${name} follows by`).toBe('polling');
      expect(line?.held, `keys ${name} held when ready, of ${line?.registered}`).toBe(line?.registered);
    }
  });

  // How fast is measured by `npm run bench` (propagation_ms), not asserted here.
  it("a set in one reaches the other's get()", async () => {
    const committed = await setIn(a, 'MAX_BATCH_SIZE', '321');
    expect(committed.ok).toBe(true);
    const seen = await changeOf(b, 'MAX_BATCH_SIZE', committed.version);
    expect(seen.value).toBe(321);
    const elapsed = (seen.at ?? 0) - (committed.at ?? 0);
    logger.info(`[propagation] ${elapsed} ms (poll interval ${INTERVAL_MS} ms)`);
    b.proc.stdin.write('get MAX_BATCH_SIZE\n');
    expect((await waitFor(b, 'the answer to get', (l) => l.type === 'get')).value).toBe(321);
  });

  it("a schedule change in one reschedules the other's job", async () => {
    onTestFinished(restoreSchedule);
    const committed = await setIn(a, 'TEST_CRON', EVERY_SECOND);
    expect(committed.ok).toBe(true);
    const seen = await changeOf(b, 'TEST_CRON', committed.version);
    expect(seen.cron).toBe(EVERY_SECOND);
    expect(seen.nextRun).toBeDefined();
    expect((seen.nextRun ?? 0) - (seen.at ?? 0)).toBeLessThanOrEqual(1000);
  });

  it('a job due in both processes runs exactly once per scheduled time', { timeout: 90_000 }, async () => {
    onTestFinished(restoreSchedule);
    const hits = db.conn.collection<{ slot: Date; instance: string }>('job_hits');
    const runs = db.conn.collection<{ job: string; status: string }>('job_runs');
    const every = await setIn(a, 'TEST_CRON', EVERY_SECOND);
    expect(every.ok).toBe(true);
    await changeOf(b, 'TEST_CRON', every.version);
    // Three scheduled times, however slowly a loaded machine gets to them.
    const since = { slot: { $gte: new Date(every.at ?? 0) } };
    await until(
      'three runs of the every-second job',
      async () => (await hits.countDocuments(since)) >= 3,
      30_000,
    );
    await restoreSchedule();
    // Runs already under way finish: nothing recorded as running and nothing new for a second.
    let last = '';
    let stableSince = Date.now();
    await until(
      'every started run finished, nothing new for a second',
      async () => {
        const now = JSON.stringify([
          await runs.countDocuments({ status: 'running' }),
          await runs.countDocuments(),
          await hits.countDocuments(),
        ]);
        if (now !== last) [last, stableSince] = [now, Date.now()];
        return now.startsWith('[0,') && Date.now() - stableSince >= 1000;
      },
      30_000,
    );

    const all = await hits.find().toArray();
    const slots = all.map((h) => h.slot.toISOString());
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(new Set(slots).size).toBe(slots.length);
    expect(await runs.countDocuments({ job: 'hit-job' })).toBe(all.length);
  });
});
