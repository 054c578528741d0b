import { describe, expect, it, onTestFinished } from 'vitest';
import { ScheduleRuns, ScheduleStore, type ScheduleDoc } from '../../src/storage/schedules.js';
import { actor, openTestDb, type TestDb } from '../helpers/db.js';

// The conditional writes of later changes, tried when their condition no longer holds: each must
// answer so and leave the stored change as it was.

async function freshStore(label: string): Promise<{ db: TestDb; store: ScheduleStore }> {
  const db = await openTestDb(label);
  onTestFinished(() => db.drop());
  const store = new ScheduleStore(db.conn);
  await store.ensureIndexes();
  return { db, store };
}

const change = (id: string, fields: Partial<ScheduleDoc> = {}): ScheduleDoc => ({
  _id: id,
  key: 'MAX_BATCH_SIZE',
  scope: 'global',
  kind: 'apply',
  runAt: new Date('2026-01-01T12:00:00.000Z'),
  value: 50,
  baseVersion: 3,
  status: 'pending',
  createdBy: actor(),
  createdAt: new Date('2026-01-01T10:00:00.000Z'),
  ...fields,
});

const stored = (db: TestDb, id: string) =>
  db.conn.collection('config_schedules').findOne({ _id: id as never });

describe('later changes (ScheduleStore)', () => {
  it('are planned once under a derived id: a re-run gets false and the first plan stays', async () => {
    const { db, store } = await freshStore('sched_once');
    expect(await store.addOnce(change('expire-of-v4'))).toBe(true);
    const before = await stored(db, 'expire-of-v4');
    expect(await store.addOnce(change('expire-of-v4', { value: 99, baseVersion: 9 }))).toBe(false);
    expect(await stored(db, 'expire-of-v4')).toEqual(before);
  });

  it('are claimed by one runner: a second claim gets false and the first holder keeps it', async () => {
    const { db, store } = await freshStore('sched_claim');
    await store.add(change('c1'));
    expect(await store.claim('c1', 'runner-a')).toBe(true);
    const before = await stored(db, 'c1');
    expect(before).toMatchObject({ status: 'running', holder: 'runner-a' });
    expect(await store.claim('c1', 'runner-b')).toBe(false);
    expect(await stored(db, 'c1')).toEqual(before);
  });

  it('once cancelled, are neither claimed nor finished', async () => {
    const { db, store } = await freshStore('sched_cancelled');
    await store.add(change('c2'));
    expect(await store.cancel('c2', 'cancelled by alice')).toBe(true);
    const before = await stored(db, 'c2');
    expect(await store.claim('c2', 'runner-a')).toBe(false);
    expect(await store.finish('c2', 'done', 'applied as v4')).toBe(false);
    expect(await stored(db, 'c2')).toEqual(before);
  });

  it('once claimed, can no longer be cancelled; once finished, keep their outcome', async () => {
    const { db, store } = await freshStore('sched_finished');
    await store.add(change('c3'));
    expect(await store.claim('c3', 'runner-a')).toBe(true);
    const running = await stored(db, 'c3');
    expect(await store.cancel('c3', 'too late')).toBe(false);
    expect(await stored(db, 'c3')).toEqual(running);
    expect(await store.finish('c3', 'done', 'applied as v4')).toBe(true);
    const done = await stored(db, 'c3');
    expect(done).toMatchObject({ status: 'done', outcome: 'applied as v4' });
    // A runner that took the lease over after the first one finished it.
    expect(await store.finish('c3', 'conflicted', 'the key moved')).toBe(false);
    expect(await store.cancel('c3', 'after the fact')).toBe(false);
    expect(await stored(db, 'c3')).toEqual(done);
  });
});

describe('the leases of later changes (ScheduleRuns)', () => {
  it('go to one runner at a time: another asking while it works is told it is held, and nothing changes', async () => {
    const { db } = await freshStore('sched_lease');
    const runs = new ScheduleRuns(db.conn, { ttlMs: 60_000 });
    await runs.ensureIndexes();
    const first = await runs.acquire({ _id: 'c4', key: 'MAX_BATCH_SIZE' }, 'runner-a');
    if (first.kind !== 'acquired') throw new Error(`runner-a did not get the lease: ${first.kind}`);
    onTestFinished(() => first.lease.stop());
    const before = await db.conn.collection('schedule_runs').find().toArray();
    const second = await runs.acquire({ _id: 'c4', key: 'MAX_BATCH_SIZE' }, 'runner-b');
    expect(second).toMatchObject({ kind: 'held', current: { holder: 'runner-a' } });
    expect(await db.conn.collection('schedule_runs').find().toArray()).toEqual(before);
  });
});
