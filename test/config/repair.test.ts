import { describe, expect, it } from 'vitest';
import { versionId } from '../../src/storage/config-store.js';
import { bindModels, type ConfigVersionDoc } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { actor, openService, type TestDb } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';
import { outcome } from '../helpers/outcome.js';

// Each test starts from the defaults (every key at version 1), on a database of its own.
const carol = actor('333333333333333333', 'carol');

/**
 * Leaves the database as a writer that died between its writes would: its intent on the current
 * document (`pending`), then its version; no audit row, current document not moved. With
 * `announce: false`, a version that appeared without the intent (written by anything else).
 */
async function crashAfterVersion(
  db: TestDb,
  key: string,
  value: unknown,
  { announce = true } = {},
): Promise<number> {
  const m = bindModels(db.conn);
  const cur = await m.SystemConfig.findOne({ key }).lean();
  const next = (cur?.version ?? 0) + 1;
  if (announce) await m.SystemConfig.updateOne({ key }, { $max: { pending: next } });
  const doc: ConfigVersionDoc = {
    key,
    version: next,
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
    const { db } = await freshService('repair');
    const v = await crashAfterVersion(db, 'MAX_BATCH_SIZE', 400);
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
    const { db, svc } = await freshService('repair');
    expect((await outcome(svc.set('MAX_BATCH_SIZE', '300', carol))).ok).toBe(true);
    await crashAfterVersion(db, 'MAX_BATCH_SIZE', 400);
    await crashAfterVersion(db, 'SCHEDULE_TIMEZONE', 'Europe/Paris', { announce: false });
    const restarted = await openService(db);
    await restarted.refresh();
    await restarted.close();
    const m = bindModels(db.conn);
    const versions = await m.ConfigVersion.find({}, { key: 1, version: 1 }).lean();
    expect(versions).toHaveLength(registry.size + 3);
    for (const v of versions) {
      const rows = await m.ConfigAudit.countDocuments({ key: v.key, version: v.version, status: 'success' });
      expect(rows, `${v.key} v${v.version} success audit rows`).toBe(1);
    }
  });

  it('is repaired by the next write to that key, which then gets the following version', async () => {
    const { db, svc } = await freshService('repair');
    const v = await crashAfterVersion(db, 'IMMEDIATE_EXPORT_BUFFER', 50);
    const res = await outcome(svc.set('IMMEDIATE_EXPORT_BUFFER', '55', carol));
    expect(res).toMatchObject({ ok: true, version: v + 1, oldValue: 50 });
    const versions = await bindModels(db.conn)
      .ConfigVersion.find({ key: 'IMMEDIATE_EXPORT_BUFFER' })
      .sort({ version: 1 })
      .lean();
    expect(versions.map((x) => x.value)).toEqual([30, 50, 55]);
  });

  it('is repaired when the current document itself was never written (crash during first start)', async () => {
    const { db } = await freshService('repair');
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

  it('every write records its intent on the current document, so a crash after its version is found', async () => {
    const { db, svc } = await freshService('repair');
    const res = await outcome(svc.set('MAX_BATCH_SIZE', '420', carol));
    expect(res.ok).toBe(true);
    const current = await bindModels(db.conn).SystemConfig.findOne({ key: 'MAX_BATCH_SIZE' }).lean();
    expect(current).toMatchObject({ value: 420, pending: res.ok ? res.version : -1 });
  });

  it('a writer that died after its intent but before its version leaves nothing to repair', async () => {
    const { db } = await freshService('repair');
    const m = bindModels(db.conn);
    await m.SystemConfig.updateOne({ key: 'AI_CONFIDENCE_THRESHOLD' }, { $max: { pending: 2 } });
    const restarted = await openService(db);
    expect(restarted.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.85);
    expect(await m.ConfigVersion.countDocuments({ key: 'AI_CONFIDENCE_THRESHOLD' })).toBe(1);
    const res = await outcome(restarted.set('AI_CONFIDENCE_THRESHOLD', '0.9', carol));
    expect(res).toMatchObject({ ok: true, version: 2, oldValue: 0.85 });
    await restarted.close();
  });

  it('a version that appeared without an intent is completed by the periodic refresh', async () => {
    const { db } = await freshService('repair');
    const v = await crashAfterVersion(db, 'SCHEDULE_TIMEZONE', 'Europe/Paris', { announce: false });
    const restarted = await openService(db);
    // Start-up reads only the current documents, so it cannot know; the safety net scans versions.
    expect(restarted.get('SCHEDULE_TIMEZONE')).toBe('UTC');
    await restarted.refresh();
    expect(restarted.get('SCHEDULE_TIMEZONE')).toBe('Europe/Paris');
    const current = await bindModels(db.conn).SystemConfig.findOne({ key: 'SCHEDULE_TIMEZONE' }).lean();
    expect(current).toMatchObject({ version: v, value: 'Europe/Paris' });
    await restarted.close();
  });

  it('a "no change" answer is never given against a lagging current value', async () => {
    const { db, svc } = await freshService('repair');
    // Current says 18:00 (v1) but a committed v2 says 20:00: setting 18:00 is a real change.
    await crashAfterVersion(db, 'DAILY_EXPORT_TIME', '20:00');
    const res = await outcome(svc.set('DAILY_EXPORT_TIME', '18:00', carol));
    expect(res).toMatchObject({ ok: true, version: 3, oldValue: '20:00', value: '18:00' });
  });
});
