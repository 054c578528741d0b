import { describe, expect, it, onTestFinished } from 'vitest';
import { JobRuns } from '../../src/storage/job-runs.js';
import { openTestDb } from '../helpers/db.js';

describe('job runs (JobRuns)', () => {
  it('go to one process per job and time: another gets held and no record changes; the next time is free', async () => {
    const db = await openTestDb('job_runs_once');
    onTestFinished(() => db.drop());
    const runs = new JobRuns(db.conn, { ttlMs: 60_000 });
    await runs.ensureIndexes();
    const slot = new Date('2026-03-08T07:30:00.000Z');
    const first = await runs.acquire('daily-export', slot, 'bot-a');
    if (first.kind !== 'acquired') throw new Error(`bot-a did not get the run: ${first.kind}`);
    onTestFinished(() => first.lease.stop());
    const before = await db.conn.collection('job_runs').find().toArray();
    expect(await runs.acquire('daily-export', slot, 'bot-b')).toMatchObject({
      kind: 'held',
      current: { holder: 'bot-a', job: 'daily-export', slot },
    });
    expect(await db.conn.collection('job_runs').find().toArray()).toEqual(before);
    await first.lease.finish('completed', { summary: 'done' });
    const done = await db.conn.collection('job_runs').find().toArray();
    expect(await runs.acquire('daily-export', slot, 'bot-b')).toMatchObject({ kind: 'completed' });
    expect(await db.conn.collection('job_runs').find().toArray()).toEqual(done);
    const next = await runs.acquire('daily-export', new Date('2026-03-09T07:30:00.000Z'), 'bot-b');
    expect(next.kind).toBe('acquired');
    if (next.kind === 'acquired') next.lease.stop();
  });
});
