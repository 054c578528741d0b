import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigService } from '../../src/config/service.js';
import { versionId } from '../../src/config/store.js';
import { bindModels } from '../../src/config/models.js';
import { actor, openService, openTestDb, type TestDb } from '../helpers/db.js';

let db: TestDb;
let svc: ConfigService;
const alice = actor();

beforeAll(async () => {
  db = await openTestDb('service');
  svc = await openService(db);
});
afterAll(async () => {
  await svc.close();
  await db.drop();
});

const models = () => bindModels(db.conn);
const versionsOf = async (key: string) =>
  (await models().ConfigVersion.find({ key }).sort({ version: 1 }).lean()).map((v) => ({
    version: v.version,
    value: v.value,
    action: v.action,
  }));

describe('first start', () => {
  it('seeds every key with its default as version 1 by the system actor', async () => {
    const rows = await models().ConfigVersion.find({ version: 1 }).lean();
    expect(rows.map((r) => r.key).sort()).toEqual(
      [
        'AI_CONFIDENCE_THRESHOLD',
        'DAILY_EXPORT_TIME',
        'IMMEDIATE_EXPORT_BUFFER',
        'LOG_LEVEL',
        'MAINTENANCE_MODE',
        'MAX_BATCH_SIZE',
        'SCHEDULE_TIMEZONE',
      ].sort(),
    );
    expect(rows.every((r) => r.action === 'init' && r.actor.id === 'system')).toBe(true);
    expect(svc.get('DAILY_EXPORT_TIME')).toBe('18:00');
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
    expect(await models().ConfigAudit.countDocuments({ action: 'init', status: 'success' })).toBe(7);
  });

  it('makes the first admin change version 2', async () => {
    const res = await svc.set('immediate_export_buffer', '45', alice, 'more slack');
    expect(res).toMatchObject({
      ok: true,
      key: 'IMMEDIATE_EXPORT_BUFFER',
      version: 2,
      value: 45,
      oldValue: 30,
    });
    expect(svc.get('IMMEDIATE_EXPORT_BUFFER')).toBe(45);
    const current = await models().SystemConfig.findOne({ key: 'IMMEDIATE_EXPORT_BUFFER' }).lean();
    expect(current).toMatchObject({ value: 45, version: 2, updatedBy: alice });
  });

  it('a second service on the same database seeds nothing twice', async () => {
    const again = await openService(db);
    expect(await models().ConfigVersion.countDocuments({ version: 1 })).toBe(7);
    expect(again.get('IMMEDIATE_EXPORT_BUFFER')).toBe(45);
    await again.close();
  });
});

describe('set', () => {
  it('stores a value with warnings and an audit row naming who, where and why', async () => {
    const res = await svc.set('DAILY_EXPORT_TIME', '10:00', alice, 'testing', {
      guildId: '1'.repeat(18),
      channelId: '2'.repeat(18),
    });
    expect(res.ok && res.warnings[0]).toMatch(/business hours/);
    const audit = await models().ConfigAudit.findOne({ key: 'DAILY_EXPORT_TIME', action: 'set' }).lean();
    expect(audit).toMatchObject({
      status: 'success',
      oldValue: '18:00',
      newValue: '10:00',
      version: 2,
      actor: alice,
      reason: 'testing',
      guildId: '1'.repeat(18),
      channelId: '2'.repeat(18),
    });
  });

  it('refuses a bad value, keeps the old one, and audits the failure', async () => {
    const before = await versionsOf('MAX_BATCH_SIZE');
    const res = await svc.set('MAX_BATCH_SIZE', '12abc', alice);
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error.code).toBe('INVALID_VALUE');
    expect(!res.ok && res.error.message).toMatch(
      /MAX_BATCH_SIZE.*not a whole number.*Allowed: integer 1-1000/,
    );
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
    expect(await versionsOf('MAX_BATCH_SIZE')).toEqual(before);
    const audit = await models().ConfigAudit.findOne({ key: 'MAX_BATCH_SIZE', status: 'failed' }).lean();
    expect(audit?.error).toMatch(/not a whole number/);
    expect(audit?.newValue).toBeUndefined();
  });

  it('refuses an unknown key with a suggestion and stores nothing', async () => {
    const res = await svc.set('MAX_BATCH', '5', alice);
    expect(!res.ok && res.error.message).toMatch(/Did you mean MAX_BATCH_SIZE/);
    expect(await models().ConfigVersion.countDocuments({ key: 'MAX_BATCH' })).toBe(0);
    expect(await models().SystemConfig.countDocuments({ key: 'MAX_BATCH' })).toBe(0);
  });

  it('refuses operator-like keys before any query', async () => {
    for (const k of ['$where', 'a.b', '__proto__', '{"$ne":null}']) {
      const res = await svc.set(k, '1', alice);
      expect(!res.ok && res.error.code).toBe('INVALID_KEY');
    }
    expect(await models().SystemConfig.countDocuments()).toBe(7);
  });

  it('says so and writes nothing when the value is already current', async () => {
    const before = await versionsOf('LOG_LEVEL');
    const res = await svc.set('LOG_LEVEL', 'INFO', alice);
    expect(!res.ok && res.error.code).toBe('UNCHANGED');
    expect(!res.ok && res.error.message).toMatch(/LOG_LEVEL is already info/);
    expect(await versionsOf('LOG_LEVEL')).toEqual(before);
  });

  it('refuses a reason over 500 characters', async () => {
    const res = await svc.set('MAX_BATCH_SIZE', '200', alice, 'x'.repeat(501));
    expect(!res.ok && res.error.code).toBe('TOO_LONG');
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
  });
});

describe('rollback and reset', () => {
  it('set 21:00, set 22:00, rollback to 21:00, then set 20:00 succeeds with contiguous versions', async () => {
    const a = await svc.set('DAILY_EXPORT_TIME', '21:00', alice);
    const b = await svc.set('DAILY_EXPORT_TIME', '22:00', alice);
    expect(a.ok && b.ok).toBe(true);
    const v21 = a.ok ? a.version : 0;
    const rb = await svc.rollback('DAILY_EXPORT_TIME', v21, alice, 'too late');
    expect(rb).toMatchObject({
      ok: true,
      action: 'rollback',
      value: '21:00',
      restoredFrom: v21,
      version: v21 + 2,
    });
    expect(svc.get('DAILY_EXPORT_TIME')).toBe('21:00');
    const next = await svc.set('DAILY_EXPORT_TIME', '20:00', alice);
    expect(next).toMatchObject({ ok: true, version: v21 + 3 });
    const versions = await versionsOf('DAILY_EXPORT_TIME');
    expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
    expect(versions.at(-2)).toMatchObject({ action: 'rollback', value: '21:00' });
  });

  it('refuses a rollback to the value that is already current and writes nothing', async () => {
    const cur = await versionsOf('DAILY_EXPORT_TIME');
    const last = cur.at(-1)?.version ?? 0;
    const res = await svc.rollback('DAILY_EXPORT_TIME', last, alice);
    expect(!res.ok && res.error.message).toMatch(/already 20:00 \(the value of version \d+\)/);
    expect(await versionsOf('DAILY_EXPORT_TIME')).toEqual(cur);
  });

  it('refuses a rollback to a version that does not exist', async () => {
    const res = await svc.rollback('DAILY_EXPORT_TIME', 999, alice);
    expect(!res.ok && res.error.code).toBe('VERSION_NOT_FOUND');
    expect(!res.ok && res.error.message).toMatch(/no version 999 \(versions 1-\d+ exist\)/);
  });

  it("refuses a rollback whose value today's rules no longer allow", async () => {
    // Write a value that was valid under older, looser rules straight into history.
    await models().ConfigVersion.collection.insertOne({
      _id: versionId('MAX_BATCH_SIZE', 2) as never,
      key: 'MAX_BATCH_SIZE',
      version: 2,
      value: 5000,
      action: 'set',
      actor: alice,
      createdAt: new Date(),
    });
    await models().SystemConfig.updateOne(
      { key: 'MAX_BATCH_SIZE', version: 1 },
      { $set: { version: 2, value: 5000 } },
    );
    await svc.set('MAX_BATCH_SIZE', '300', alice);
    const res = await svc.rollback('MAX_BATCH_SIZE', 2, alice);
    expect(!res.ok && res.error.message).toMatch(
      /Cannot roll back MAX_BATCH_SIZE to version 2: its value 5000 is not allowed.*at most 1000/,
    );
    expect(svc.get('MAX_BATCH_SIZE')).toBe(300);
  });

  it('reset writes the default as a new version', async () => {
    const res = await svc.reset('DAILY_EXPORT_TIME', alice, 'back to normal');
    expect(res).toMatchObject({ ok: true, action: 'reset', value: '18:00' });
    expect(svc.get('DAILY_EXPORT_TIME')).toBe('18:00');
    const again = await svc.reset('DAILY_EXPORT_TIME', alice);
    expect(!again.ok && again.error.message).toMatch(/already 18:00 \(its default\)/);
  });
});

describe('reads', () => {
  it('history pages newest first with before', async () => {
    const page1 = await svc.history('DAILY_EXPORT_TIME', { limit: 2 });
    expect(page1.map((v) => v.version)).toEqual([page1[0]!.version, page1[0]!.version - 1]);
    const page2 = await svc.history('DAILY_EXPORT_TIME', { limit: 2, before: page1[1]!.version });
    expect(page2[0]!.version).toBe(page1[1]!.version - 1);
  });

  it('list groups by category and marks defaults', () => {
    const all = svc.list();
    expect(all).toHaveLength(7);
    expect(svc.list('ai').map((e) => e.key)).toEqual(['AI_CONFIDENCE_THRESHOLD']);
    const buffer = all.find((e) => e.key === 'IMMEDIATE_EXPORT_BUFFER');
    expect(buffer).toMatchObject({ display: '45', defaultDisplay: '30', isDefault: false, version: 2 });
  });

  it('auditLog filters by key and status', async () => {
    const failed = await svc.auditLog({ status: 'failed', key: 'MAX_BATCH_SIZE' });
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r) => r.key === 'MAX_BATCH_SIZE' && r.status === 'failed')).toBe(true);
  });

  it('stats count cache hits and misses', () => {
    const before = svc.stats().cache.hits;
    svc.get('LOG_LEVEL');
    svc.get('LOG_LEVEL');
    const s = svc.stats();
    expect(s.cache.hits).toBe(before + 2);
    expect(s.cache.keys).toBe(7);
    expect(s.cache.hitRate).toBeGreaterThan(0.5);
    expect(s.cache.lastRefresh).toBeInstanceOf(Date);
    expect(s.database).toBe('connected');
  });

  it('getAll returns every key', () => {
    expect(Object.keys(svc.getAll())).toHaveLength(7);
  });
});
