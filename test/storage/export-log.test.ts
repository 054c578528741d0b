import { describe, expect, it, onTestFinished } from 'vitest';
import { ExportLog, type ExportFields } from '../../src/storage/export-log.js';
import { openTestDb, type TestDb } from '../helpers/db.js';

async function freshLog(label: string): Promise<{ db: TestDb; log: ExportLog }> {
  const db = await openTestDb(label);
  onTestFinished(() => db.drop());
  const log = new ExportLog(db.conn, { ttlMs: 60_000 });
  await log.ensureIndexes();
  return { db, log };
}

const fields: ExportFields = {
  date: '2026-01-01',
  slot: new Date('2026-01-01T18:00:00.000Z'),
  trigger: 'schedule',
};
const all = (db: TestDb, collection: string) =>
  db.conn.collection(collection).find().sort({ _id: 1 }).toArray();

describe('the export log (ExportLog)', () => {
  it('gives a date to one exporter: another is told it is held, and no record changes', async () => {
    const { db, log } = await freshLog('export_date_held');
    const first = await log.claimDate('2026-01-01', 'bot-a', fields, false);
    if (first.kind !== 'acquired') throw new Error(`bot-a did not get the date: ${first.kind}`);
    onTestFinished(() => first.lease.stop());
    const before = await all(db, 'export_logs');
    for (const force of [false, true])
      expect(
        await log.claimDate('2026-01-01', 'bot-b', { ...fields, trigger: 'manual' }, force),
      ).toMatchObject({ kind: 'held', current: { holder: 'bot-a' } });
    expect(await all(db, 'export_logs')).toEqual(before);
  });

  it('does not export a date again unless forced: no record changes', async () => {
    const { db, log } = await freshLog('export_date_done');
    const first = await log.claimDate('2026-01-01', 'bot-a', fields, false);
    if (first.kind !== 'acquired') throw new Error(`bot-a did not get the date: ${first.kind}`);
    await first.lease.finish('completed', { auditRows: 3 });
    const before = await all(db, 'export_logs');
    expect(await log.claimDate('2026-01-01', 'bot-b', fields, false)).toMatchObject({
      kind: 'completed',
      current: { holder: 'bot-a', auditRows: 3 },
    });
    expect(await all(db, 'export_logs')).toEqual(before);
  });

  it('lets one export at a time hold the chain: another is told it is held, and no record changes', async () => {
    const { db, log } = await freshLog('export_chain');
    const first = await log.claimChain('bot-a');
    if (first.kind !== 'acquired') throw new Error(`bot-a did not get the chain: ${first.kind}`);
    onTestFinished(() => first.lease.stop());
    const before = await all(db, 'leases');
    expect(await log.claimChain('bot-b')).toMatchObject({ kind: 'held', current: { holder: 'bot-a' } });
    expect(await all(db, 'leases')).toEqual(before);
  });
});
