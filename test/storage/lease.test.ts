import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connect } from '../../src/storage/connection.js';
import { LeaseTable } from '../../src/storage/lease.js';
import { JobRuns } from '../../src/storage/job-runs.js';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { captureLogs } from '../helpers/logs.js';

async function freshDb(label: string): Promise<TestDb> {
  const db = await openTestDb(label);
  onTestFinished(() => db.drop());
  return db;
}

describe('leases', () => {
  it('go to exactly one of many processes asking at once, over separate connections', async () => {
    const db = await freshDb('lease_race');
    const conns = await Promise.all(
      Array.from({ length: 4 }, () => connect({ uri: db.uri, dbName: db.dbName, timeoutMs: 3000 })),
    );
    onTestFinished(() => Promise.all(conns.map((c) => c.close())).then(() => undefined));
    for (let round = 0; round < 5; round++) {
      const claims = await Promise.all(
        conns.flatMap((c, i) =>
          [0, 1].map((j) =>
            new LeaseTable<object>(c, 'races', { ttlMs: 5000, what: 'race' }).acquire(
              `r${round}`,
              `h${i}.${j}`,
              {},
            ),
          ),
        ),
      );
      const winners = claims.filter((c) => c.kind === 'acquired');
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(claims.filter((c) => c.kind === 'held')).toHaveLength(claims.length - 1);
      for (const w of winners) if (w.kind === 'acquired') w.lease.stop();
    }
  });

  it('stay with a holder that heart-beats, however long it works', async () => {
    const db = await freshDb('lease_alive');
    const table = new LeaseTable<object>(db.conn, 'alive', { ttlMs: 600, what: 'test lease' });
    const mine = await table.acquire('job', 'alive-holder', {});
    expect(mine.kind).toBe('acquired');
    onTestFinished(() => (mine.kind === 'acquired' ? mine.lease.stop() : undefined));
    await sleep(1500); // 2.5 TTLs
    const other = await table.acquire('job', 'other', {});
    expect(other.kind).toBe('held');
    expect(other.kind === 'held' && other.current.holder).toBe('alive-holder');
  });

  it('are taken over (and the take-over logged) once the holder stops heart-beating; the old holder learns it lost', async () => {
    const db = await freshDb('lease_takeover');
    const table = new LeaseTable<{ note: string }>(db.conn, 'takeover', { ttlMs: 400, what: 'test lease' });
    const first = await table.acquire('job', 'frozen', { note: 'first' });
    if (first.kind !== 'acquired') throw new Error('first holder did not get the lease');
    first.lease.stop(); // frozen: no more heartbeats
    expect((await table.acquire('job', 'early', { note: 'x' })).kind).toBe('held');
    await sleep(600);
    const logs = captureLogs();
    onTestFinished(logs.stop);
    const second = await table.acquire('job', 'taker', { note: 'second' });
    expect(second.kind).toBe('acquired');
    if (second.kind !== 'acquired') return;
    second.lease.stop();
    expect(second.tookOver?.holder).toBe('frozen');
    expect(second.lease.record).toMatchObject({ attempt: 2, tookOverFrom: 'frozen', note: 'second' });
    expect(
      logs.lines.some((l) => l.includes('Took over the test lease job from frozen: no heartbeat since')),
    ).toBe(true);
    expect(await first.lease.heartbeat()).toBe(false);
    expect(first.lease.lost).toBe(true);
    const docs = await db.conn.collection('takeover').find().sort({ attempt: 1 }).toArray();
    expect(docs.map((d) => [d._id, d.holder, d.status])).toEqual([
      ['job', 'frozen', 'abandoned'],
      ['job#2', 'taker', 'running'],
    ]);
  });

  it('are taken again after completion only when asked to; a failed one is free', async () => {
    const db = await freshDb('lease_done');
    const table = new LeaseTable<object>(db.conn, 'done', { ttlMs: 5000, what: 'test lease' });
    const a = await table.acquire('d', 'a', {});
    if (a.kind !== 'acquired') throw new Error('not acquired');
    await a.lease.finish('completed');
    expect((await table.acquire('d', 'b', {})).kind).toBe('completed');
    const again = await table.acquire('d', 'b', {}, { again: true });
    expect(again.kind).toBe('acquired');
    if (again.kind !== 'acquired') return;
    await again.lease.finish('failed');
    const retry = await table.acquire('d', 'c', {});
    expect(retry.kind === 'acquired' && retry.lease.record.attempt).toBe(3);
    if (retry.kind === 'acquired') retry.lease.stop();
  });

  it('of job runs left running by a process that died are closed as abandoned, old records included', async () => {
    const db = await freshDb('lease_jobs');
    const old = new Date(Date.now() - 120_000);
    // One run from before leases had heartbeats, one whose holder stopped beating, one alive.
    await db.conn.collection('job_runs').insertMany([
      {
        _id: 'daily-export@2026-01-01T18:00:00.000Z' as never,
        job: 'daily-export',
        slot: old,
        instance: 'gone',
        status: 'running',
        startedAt: old,
      },
      {
        _id: 'daily-export@2026-01-02T18:00:00.000Z' as never,
        lease: 'daily-export@2026-01-02T18:00:00.000Z',
        attempt: 1,
        job: 'daily-export',
        slot: old,
        holder: 'dead',
        status: 'running',
        startedAt: old,
        heartbeatAt: old,
      },
      {
        _id: 'daily-export@2026-01-03T18:00:00.000Z' as never,
        lease: 'daily-export@2026-01-03T18:00:00.000Z',
        attempt: 1,
        job: 'daily-export',
        slot: old,
        holder: 'alive',
        status: 'running',
        startedAt: old,
        heartbeatAt: new Date(),
      },
    ]);
    const runs = new JobRuns(db.conn, { ttlMs: 60_000 });
    await runs.ensureIndexes();
    const status = Object.fromEntries(
      (await db.conn.collection('job_runs').find().toArray()).map((d) => [
        String(d._id).slice(13, 23),
        d.status,
      ]),
    );
    expect(status).toEqual({ '2026-01-01': 'abandoned', '2026-01-02': 'abandoned', '2026-01-03': 'running' });
    // The old record's slot can be run again: it is taken over as attempt 2.
    const claim = await runs.acquire('daily-export', new Date('2026-01-01T18:00:00.000Z'), 'new');
    expect(claim.kind === 'acquired' && claim.lease.record.attempt).toBe(2);
    if (claim.kind === 'acquired') claim.lease.stop();
  });
});
