import { describe, expect, it, onTestFinished } from 'vitest';
import { LeaseTable, type Claim, type Lease } from '../../src/storage/lease.js';
import { openTestDb, type TestDb } from '../helpers/db.js';

// Each conditional write of a lease, made when its condition no longer holds: it must say so and
// leave every attempt's record as it was. Staleness is written into the records (an old
// heartbeat) rather than waited for.

const TTL = 60_000;

async function freshTable(label: string): Promise<{ db: TestDb; table: LeaseTable<{ note: string }> }> {
  const db = await openTestDb(label);
  onTestFinished(() => db.drop());
  const table = new LeaseTable<{ note: string }>(db.conn, 'conditions', { ttlMs: TTL, what: 'test lease' });
  await table.ensureIndexes();
  return { db, table };
}

function acquired<F>(claim: Claim<F>, who: string): Lease<F> {
  if (claim.kind !== 'acquired') throw new Error(`${who} did not get the lease: ${claim.kind}`);
  onTestFinished(() => claim.lease.stop());
  return claim.lease;
}

const records = (db: TestDb) => db.conn.collection('conditions').find().sort({ _id: 1 }).toArray();

/** Makes the holder of an attempt look gone: its last heartbeat two TTLs ago. */
async function silence(db: TestDb, id: string): Promise<void> {
  const old = new Date(Date.now() - 2 * TTL);
  await db.conn.collection('conditions').updateOne({ _id: id as never }, { $set: { heartbeatAt: old } });
}

describe('a lease', () => {
  it('held by a live holder is not taken: the next process is told so and no record changes', async () => {
    const { db, table } = await freshTable('lease_held');
    acquired(await table.acquire('job', 'holder-a', { note: 'a' }), 'holder-a');
    const before = await records(db);
    expect(await table.acquire('job', 'holder-b', { note: 'b' })).toMatchObject({
      kind: 'held',
      current: { holder: 'holder-a', note: 'a' },
    });
    expect(await records(db)).toEqual(before);
  });

  it('completed is not taken again unless asked: no record changes', async () => {
    const { db, table } = await freshTable('lease_completed');
    await acquired(await table.acquire('job', 'holder-a', { note: 'a' }), 'holder-a').finish('completed');
    const before = await records(db);
    expect(await table.acquire('job', 'holder-b', { note: 'b' })).toMatchObject({ kind: 'completed' });
    expect(await records(db)).toEqual(before);
  });

  it('taken over leaves its old holder’s heartbeat without effect: false, and no record changes', async () => {
    const { db, table } = await freshTable('lease_heartbeat');
    const old = acquired(await table.acquire('job', 'frozen', { note: 'a' }), 'frozen');
    old.stop();
    await silence(db, 'job');
    acquired(await table.acquire('job', 'taker', { note: 'b' }), 'taker');
    const before = await records(db);
    expect(before.map((r) => [r._id, r.holder, r.status])).toEqual([
      ['job', 'frozen', 'abandoned'],
      ['job#2', 'taker', 'running'],
    ]);
    expect(await old.heartbeat()).toBe(false);
    expect(old.lost).toBe(true);
    expect(await records(db)).toEqual(before);
  });

  it('whose holder finished it after a process found it stale is not marked abandoned', async () => {
    const { db, table } = await freshTable('lease_abandon');
    const slow = acquired(await table.acquire('job', 'slow', { note: 'a' }), 'slow');
    slow.stop();
    await silence(db, 'job');
    const seenStale = await table.latest('job');
    if (!seenStale) throw new Error('no record');
    expect(table.isStale(seenStale)).toBe(true);
    await slow.finish('completed');
    const before = await records(db);
    // The window between reading a stale record and marking it cannot be reached from outside
    // deterministically, so the marking is called with the record as it was read.
    await table['abandon'](seenStale, 'taker');
    expect(await records(db)).toEqual(before);
  });
});
