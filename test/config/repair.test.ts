import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionId } from '../../src/config/store.js';
import { bindModels, type ConfigVersionDoc } from '../../src/config/models.js';
import type { ConfigService } from '../../src/config/service.js';
import { actor, openService, openTestDb, type TestDb } from '../helpers/db.js';

let db: TestDb;
let svc: ConfigService;
const carol = actor('333333333333333333', 'carol');

beforeAll(async () => {
  db = await openTestDb('repair');
  svc = await openService(db);
});
afterAll(async () => {
  await svc.close();
  await db.drop();
});

/** Leaves the database as a writer that died between its two writes would: a version, no current. */
async function crashAfterVersion(key: string, value: unknown): Promise<number> {
  const m = bindModels(db.conn);
  const cur = await m.SystemConfig.findOne({ key }).lean();
  const doc: ConfigVersionDoc = {
    key,
    version: (cur?.version ?? 0) + 1,
    value,
    action: 'set',
    actor: carol,
    createdAt: new Date(),
  };
  await m.ConfigVersion.collection.insertOne({ ...doc, _id: versionId(key, doc.version) as never });
  return doc.version;
}

describe('a crash between the version write and the current-value write', () => {
  it('is repaired by the next start', async () => {
    const v = await crashAfterVersion('MAX_BATCH_SIZE', 400);
    const restarted = await openService(db);
    expect(restarted.get('MAX_BATCH_SIZE')).toBe(400);
    const current = await bindModels(db.conn).SystemConfig.findOne({ key: 'MAX_BATCH_SIZE' }).lean();
    expect(current).toMatchObject({ version: v, value: 400 });
    // The writer died before its audit row too: the repair writes it, so no version goes unaudited.
    const audit = await bindModels(db.conn)
      .ConfigAudit.find({ key: 'MAX_BATCH_SIZE', version: v, status: 'success' })
      .lean();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'set', actor: carol, newValue: 400, oldValue: 100 });
    expect(audit[0]?.reason).toMatch(/recorded on recovery/);
    await restarted.close();
  });

  it('leaves every version of every key with exactly one success audit row', async () => {
    const m = bindModels(db.conn);
    const versions = await m.ConfigVersion.find({}, { key: 1, version: 1 }).lean();
    for (const v of versions) {
      expect(await m.ConfigAudit.countDocuments({ key: v.key, version: v.version, status: 'success' })).toBe(
        1,
      );
    }
  });

  it('is repaired by the next write to that key, which then gets the following version', async () => {
    const v = await crashAfterVersion('IMMEDIATE_EXPORT_BUFFER', 50);
    const res = await svc.set('IMMEDIATE_EXPORT_BUFFER', '55', carol);
    expect(res).toMatchObject({ ok: true, version: v + 1, oldValue: 50 });
    const versions = await bindModels(db.conn)
      .ConfigVersion.find({ key: 'IMMEDIATE_EXPORT_BUFFER' })
      .sort({ version: 1 })
      .lean();
    expect(versions.map((x) => x.value)).toEqual([30, 50, 55]);
  });

  it('is repaired when the current document itself was never written (crash during first start)', async () => {
    const m = bindModels(db.conn);
    await m.SystemConfig.deleteOne({ key: 'LOG_LEVEL' });
    const restarted = await openService(db);
    expect(await m.SystemConfig.findOne({ key: 'LOG_LEVEL' }).lean()).toMatchObject({
      version: 1,
      value: 'info',
    });
    expect(await m.ConfigVersion.countDocuments({ key: 'LOG_LEVEL' })).toBe(1);
    await restarted.close();
  });

  it('a "no change" answer is never given against a lagging current value', async () => {
    // Current says 18:00 (v1) but a committed v2 says 20:00: setting 18:00 is a real change.
    await crashAfterVersion('DAILY_EXPORT_TIME', '20:00');
    const res = await svc.set('DAILY_EXPORT_TIME', '18:00', carol);
    expect(res).toMatchObject({ ok: true, version: 3, oldValue: '20:00', value: '18:00' });
  });
});
