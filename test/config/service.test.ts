import { describe, expect, it } from 'vitest';
import { bindModels, type AuditAction } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { versionId } from '../../src/storage/config-store.js';
import { actor, openService } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';
import type { TestDb } from '../helpers/db.js';
import { outcome } from '../helpers/outcome.js';

const alice = actor();
const KEYS = [...registry.keys()].sort();

const versionsOf = async (db: TestDb, key: string) =>
  (await bindModels(db.conn).ConfigVersion.find({ key }).sort({ version: 1 }).lean()).map((v) => ({
    version: v.version,
    value: v.value,
    action: v.action,
  }));

const failedRows = (db: TestDb, key: string, action: AuditAction) =>
  bindModels(db.conn).ConfigAudit.find({ key, action, status: 'failed' }).lean();

describe('first start', () => {
  it('seeds every key with its default as version 1 by the system actor, each audited', async () => {
    const { db, svc } = await freshService('service_seed');
    const m = bindModels(db.conn);
    const rows = await m.ConfigVersion.find({ version: 1 }).lean();
    expect(rows.map((r) => r.key).sort()).toEqual(KEYS);
    expect(rows.every((r) => r.action === 'init' && r.actor.id === 'system')).toBe(true);
    expect(svc.get('DAILY_EXPORT_TIME')).toBe('18:00');
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
    expect(svc.get('EXPORT_WEBHOOK_URL')).toBeNull();
    expect(await m.ConfigAudit.countDocuments({ action: 'init', status: 'success' })).toBe(KEYS.length);
  });

  it('makes the first admin change version 2, and a second service on the same database seeds nothing twice', async () => {
    const { db, svc } = await freshService('service_second');
    const res = await outcome(svc.set('immediate_export_buffer', '45', alice, 'more slack'));
    expect(res).toMatchObject({
      ok: true,
      key: 'IMMEDIATE_EXPORT_BUFFER',
      version: 2,
      value: 45,
      oldValue: 30,
    });
    const current = await bindModels(db.conn).SystemConfig.findOne({ key: 'IMMEDIATE_EXPORT_BUFFER' }).lean();
    expect(current).toMatchObject({ value: 45, version: 2, updatedBy: alice });
    const again = await openService(db);
    expect(await bindModels(db.conn).ConfigVersion.countDocuments({ version: 1 })).toBe(KEYS.length);
    expect(again.get('IMMEDIATE_EXPORT_BUFFER')).toBe(45);
    await again.close();
  });
});

describe('set', () => {
  it('stores a value with warnings and an audit row naming who, where and why', async () => {
    const { db, svc } = await freshService('service_set');
    const where = { guildId: '1'.repeat(18), channelId: '2'.repeat(18) };
    const res = await outcome(svc.set('DAILY_EXPORT_TIME', '10:00', alice, 'testing', where));
    expect(res.ok && res.warnings[0]).toMatch(/business hours/);
    const audit = await bindModels(db.conn)
      .ConfigAudit.findOne({ key: 'DAILY_EXPORT_TIME', action: 'set' })
      .lean();
    expect(audit).toMatchObject({
      status: 'success',
      oldValue: '18:00',
      newValue: '10:00',
      version: 2,
      actor: alice,
      reason: 'testing',
      ...where,
    });
  });

  it('refuses a bad value, keeps the old one, and audits the failure', async () => {
    const { db, svc } = await freshService('service_bad');
    const res = await outcome(svc.set('MAX_BATCH_SIZE', '12abc', alice));
    expect(!res.ok && res.error.code).toBe('INVALID_VALUE');
    expect(!res.ok && res.error.message).toMatch(
      /MAX_BATCH_SIZE.*not a whole number.*Allowed: integer 1-1000/,
    );
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
    expect(await versionsOf(db, 'MAX_BATCH_SIZE')).toEqual([{ version: 1, value: 100, action: 'init' }]);
    const [audit] = await failedRows(db, 'MAX_BATCH_SIZE', 'set');
    expect(audit?.error).toMatch(/not a whole number/);
    expect(audit?.newValue).toBeUndefined();
  });

  it('refuses an unknown key with a suggestion and stores nothing', async () => {
    const { db, svc } = await freshService('service_unknown');
    const res = await outcome(svc.set('MAX_BATCH', '5', alice));
    expect(!res.ok && res.error.message).toMatch(/Did you mean MAX_BATCH_SIZE/);
    const m = bindModels(db.conn);
    expect(await m.ConfigVersion.countDocuments({ key: 'MAX_BATCH' })).toBe(0);
    expect(await m.SystemConfig.countDocuments({ key: 'MAX_BATCH' })).toBe(0);
  });

  it('refuses operator-like keys before any query', async () => {
    const { db, svc } = await freshService('service_operator');
    for (const k of ['$where', 'a.b', '__proto__', '{"$ne":null}']) {
      const res = await outcome(svc.set(k, '1', alice));
      expect(!res.ok && res.error.code).toBe('INVALID_KEY');
    }
    expect(await bindModels(db.conn).SystemConfig.countDocuments()).toBe(KEYS.length);
  });

  it('says so and writes nothing when the value is already current', async () => {
    const { db, svc } = await freshService('service_same');
    const res = await outcome(svc.set('LOG_LEVEL', 'INFO', alice));
    expect(!res.ok && res.error.code).toBe('UNCHANGED');
    expect(!res.ok && res.error.message).toMatch(/LOG_LEVEL is already info/);
    expect(await versionsOf(db, 'LOG_LEVEL')).toHaveLength(1);
  });

  it('refuses a reason over 500 characters', async () => {
    const { svc } = await freshService('service_reason');
    const res = await outcome(svc.set('MAX_BATCH_SIZE', '200', alice, 'x'.repeat(501)));
    expect(!res.ok && res.error.code).toBe('TOO_LONG');
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
  });

  it('stores a reason with control and bidirectional characters shown visibly', async () => {
    const { svc } = await freshService('service_bidi');
    await svc.set('MAX_BATCH_SIZE', '200', alice, 'harmless\u202Etxt.exe\u0007 ok');
    const [row] = await svc.history('MAX_BATCH_SIZE', { limit: 1 });
    expect(row?.reason).toBe('harmless[U+202E]txt.exe[U+0007] ok');
  });
});

describe('rollback and reset', () => {
  it('set 21:00, set 22:00, rollback to 21:00, then set 20:00 succeeds with contiguous versions', async () => {
    const { db, svc } = await freshService('service_rollback');
    await svc.set('DAILY_EXPORT_TIME', '21:00', alice);
    await svc.set('DAILY_EXPORT_TIME', '22:00', alice);
    const rb = await outcome(svc.rollback('DAILY_EXPORT_TIME', 2, alice, 'too late'));
    expect(rb).toMatchObject({ ok: true, action: 'rollback', value: '21:00', restoredFrom: 2, version: 4 });
    expect(svc.get('DAILY_EXPORT_TIME')).toBe('21:00');
    expect(await outcome(svc.set('DAILY_EXPORT_TIME', '20:00', alice))).toMatchObject({
      ok: true,
      version: 5,
    });
    const versions = await versionsOf(db, 'DAILY_EXPORT_TIME');
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5]);
    expect(versions[3]).toMatchObject({ action: 'rollback', value: '21:00' });
  });

  it('refuses a rollback to the value that is already current, writes nothing and audits the attempt', async () => {
    const { db, svc } = await freshService('service_rollback_same');
    await svc.set('DAILY_EXPORT_TIME', '20:00', alice);
    const res = await outcome(svc.rollback('DAILY_EXPORT_TIME', 2, alice));
    expect(!res.ok && res.error.message).toMatch(/already 20:00 \(the value of version 2\)/);
    expect(await versionsOf(db, 'DAILY_EXPORT_TIME')).toHaveLength(2);
    expect(await failedRows(db, 'DAILY_EXPORT_TIME', 'rollback')).toHaveLength(1);
  });

  it('refuses a rollback to a version that does not exist', async () => {
    const { svc } = await freshService('service_rollback_missing');
    const res = await outcome(svc.rollback('DAILY_EXPORT_TIME', 999, alice));
    expect(!res.ok && res.error.code).toBe('VERSION_NOT_FOUND');
    expect(!res.ok && res.error.message).toMatch(/no version 999 \(versions 1-1 exist\)/);
  });

  it("refuses a rollback whose value today's rules no longer allow", async () => {
    const { db, svc } = await freshService('service_rollback_rules');
    const m = bindModels(db.conn);
    // A value that was valid under older, looser rules, straight into history.
    await m.ConfigVersion.collection.insertOne({
      _id: versionId('MAX_BATCH_SIZE', 2) as never,
      key: 'MAX_BATCH_SIZE',
      version: 2,
      value: 5000,
      action: 'set',
      actor: alice,
      createdAt: new Date(),
    });
    await m.SystemConfig.updateOne(
      { key: 'MAX_BATCH_SIZE', version: 1 },
      { $set: { version: 2, value: 5000 } },
    );
    await svc.set('MAX_BATCH_SIZE', '300', alice);
    const res = await outcome(svc.rollback('MAX_BATCH_SIZE', 2, alice));
    expect(!res.ok && res.error.message).toMatch(
      /Cannot roll back MAX_BATCH_SIZE to version 2: its value 5000 is not allowed.*at most 1000/,
    );
    expect(svc.get('MAX_BATCH_SIZE')).toBe(300);
  });

  it('reset writes the default as a new version, and a second reset says it is already the default', async () => {
    const { svc } = await freshService('service_reset');
    await svc.set('DAILY_EXPORT_TIME', '20:00', alice);
    const res = await outcome(svc.reset('DAILY_EXPORT_TIME', alice, 'back to normal'));
    expect(res).toMatchObject({ ok: true, action: 'reset', value: '18:00', version: 3 });
    const again = await outcome(svc.reset('DAILY_EXPORT_TIME', alice));
    expect(!again.ok && again.error.message).toMatch(/already 18:00 \(its default\)/);
  });

  it('refuses a confirmed rollback when the key moved since its preview, and audits it', async () => {
    const { db, svc } = await freshService('service_moved');
    await svc.set('MAX_BATCH_SIZE', '200', alice);
    const preview = await svc.previewRollback('MAX_BATCH_SIZE', 1, alice);
    await svc.set('MAX_BATCH_SIZE', '300', actor('222222222222222222', 'bob'));
    const res = await outcome(
      svc.rollback('MAX_BATCH_SIZE', 1, alice, undefined, {}, { expectedVersion: preview.currentVersion }),
    );
    expect(!res.ok && res.error.code).toBe('CONFLICT');
    expect(!res.ok && res.error.message).toMatch(
      /changed since this preview \(v2 → v3\); nothing was changed/,
    );
    expect(svc.get('MAX_BATCH_SIZE')).toBe(300);
    const [row] = await failedRows(db, 'MAX_BATCH_SIZE', 'rollback');
    expect(row?.error).toMatch(/changed since this preview/);
  });
});

describe('previews', () => {
  it('audits every refused rollback preview: version 0, -1, missing, no change', async () => {
    const { db, svc } = await freshService('service_preview');
    await svc.set('MAX_BATCH_SIZE', '200', alice);
    for (const v of [0, -1, 77, 2]) {
      await expect(
        svc.previewRollback('MAX_BATCH_SIZE', v, alice, 'why', { guildId: '3'.repeat(18) }),
      ).rejects.toThrow();
    }
    const rows = await failedRows(db, 'MAX_BATCH_SIZE', 'rollback');
    expect(rows.map((r) => r.error)).toEqual([
      expect.stringMatching(/at least 1; got 0/),
      expect.stringMatching(/at least 1; got -1/),
      expect.stringMatching(/no version 77/),
      expect.stringMatching(/already 200 \(the value of version 2\)/),
    ]);
    expect(
      rows.every((r) => r.actor.id === alice.id && r.reason === 'why' && r.guildId === '3'.repeat(18)),
    ).toBe(true);
  });

  it('audits a reset preview refused because the key is already at its default', async () => {
    const { db, svc } = await freshService('service_preview_reset');
    await expect(svc.previewReset('LOG_LEVEL', alice)).rejects.toThrow(/already info \(its default\)/);
    expect(await failedRows(db, 'LOG_LEVEL', 'reset')).toHaveLength(1);
  });
});

describe('reads', () => {
  it('history pages newest first, below a version or above one', async () => {
    const { svc } = await freshService('service_history');
    for (const v of ['21:00', '22:00', '20:00', '19:00']) await svc.set('DAILY_EXPORT_TIME', v, alice);
    const newest = await svc.history('DAILY_EXPORT_TIME', { limit: 2 });
    expect(newest.map((v) => v.version)).toEqual([5, 4]);
    const older = await svc.history('DAILY_EXPORT_TIME', { limit: 2, before: 4 });
    expect(older.map((v) => v.version)).toEqual([3, 2]);
    const newer = await svc.history('DAILY_EXPORT_TIME', { limit: 2, after: 2 });
    expect(newer.map((v) => v.version)).toEqual([4, 3]);
  });

  it('list groups by category and marks defaults', async () => {
    const { svc } = await freshService('service_list');
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '45', alice);
    const all = svc.list();
    expect(all.map((e) => e.key).sort()).toEqual(KEYS);
    expect(svc.list('ai').map((e) => e.key)).toEqual(['AI_CONFIDENCE_THRESHOLD']);
    const buffer = all.find((e) => e.key === 'IMMEDIATE_EXPORT_BUFFER');
    expect(buffer).toMatchObject({ display: '45', defaultDisplay: '30', isDefault: false, version: 2 });
    expect(all.find((e) => e.key === 'EXPORT_WEBHOOK_URL')).toMatchObject({
      display: '(not set)',
      isDefault: true,
    });
  });

  it('auditLog filters by key and status', async () => {
    const { svc } = await freshService('service_audit');
    await expect(svc.set('MAX_BATCH_SIZE', 'nope', alice)).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    await svc.set('MAX_BATCH_SIZE', '300', alice);
    const failed = await svc.auditLog({ status: 'failed', key: 'MAX_BATCH_SIZE' });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ key: 'MAX_BATCH_SIZE', status: 'failed' });
  });

  it('stats count cache hits and misses', async () => {
    const { svc } = await freshService('service_stats');
    const before = svc.stats().cache.hits;
    svc.get('LOG_LEVEL');
    svc.get('LOG_LEVEL');
    const s = svc.stats();
    expect(s.cache.hits).toBe(before + 2);
    expect(s.cache.keys).toBe(KEYS.length);
    expect(s.cache.lastRefresh).toBeInstanceOf(Date);
    expect(s).toMatchObject({ database: 'connected', startedFrom: 'database', auditQueued: 0 });
  });

  it('getAll returns every key', async () => {
    const { svc } = await freshService('service_getall');
    expect(Object.keys(svc.getAll()).sort()).toEqual(KEYS);
  });

  it('valuesAt gives the values that were current at a past time, from the versions', async () => {
    const { svc } = await freshService('service_values_at');
    await svc.set('MAX_BATCH_SIZE', '200', alice);
    const between = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await svc.set('MAX_BATCH_SIZE', '300', alice);
    const then = await svc.valuesAt(between);
    expect(then.find((e) => e.key === 'MAX_BATCH_SIZE')).toMatchObject({ value: 200, version: 2 });
    const now = await svc.valuesAt(new Date());
    expect(now.find((e) => e.key === 'MAX_BATCH_SIZE')).toMatchObject({ value: 300, version: 3 });
    const before = await svc.valuesAt(new Date(0));
    expect(before.find((e) => e.key === 'MAX_BATCH_SIZE')).toMatchObject({ value: 100, version: 0 });
  });
});
