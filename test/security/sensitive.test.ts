import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/storage/codec.js';
import { text } from '../../src/config/kinds.js';
import { bindModels } from '../../src/storage/config-models.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { ConfigService, MASK } from '../../src/config/service.js';
import { SnapshotStore } from '../../src/storage/snapshots.js';
import { actor, openTestDb, type TestDb } from '../helpers/db.js';
import { startBot, type Bot } from '../helpers/discord.js';
import { captureLogs } from '../helpers/logs.js';
import { ensureValue, outcome } from '../helpers/outcome.js';

const SECRET = 'sk-live-Zq9v8TOPSECRETx7';
const SECRET_2 = 'sk-live-second-SECRET-44';
const HOOK = 'https://hooks.example.com/services/T0/B0/HOOKSECRET99';
const alice = actor();

function secretRegistry() {
  const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
  defs.PAYMENT_API_TOKEN = {
    ...text({ min: 8, max: 200 }),
    category: 'system',
    description: 'Token of the payment API',
    default: 'unset-token',
    sensitive: true,
    requiresRestart: false,
  } as KeyDefinition;
  return buildRegistry(defs);
}

async function service(db: TestDb, keys: Buffer[]): Promise<ConfigService> {
  const svc = new ConfigService({ registry: secretRegistry(), conn: db.conn, encryptionKeys: keys });
  await svc.init();
  return svc;
}

const rawDocuments = async (db: TestDb) =>
  JSON.stringify(
    await Promise.all(
      ['system_configs', 'config_versions', 'config_audit_logs'].map((c) =>
        db.conn.collection(c).find().toArray(),
      ),
    ),
  );

describe('sensitive values through Discord', () => {
  const key = randomBytes(32);
  let db: TestDb;
  let svc: ConfigService;
  let bot: Bot;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    logs = captureLogs();
    db = await openTestDb('sensitive');
    svc = await service(db, [key]);
    bot = await startBot(svc);
  });
  afterAll(async () => {
    logs.stop();
    await bot.close();
    await svc.close();
    await db.drop();
  });

  it('never shows the value in Discord, logs, the audit view or history, while code can read it', async () => {
    const s = bot.session();
    await s.run(`/config set setting:PAYMENT_API_TOKEN value:${SECRET} reason:rotate`);
    await s.run(`/config set setting:PAYMENT_API_TOKEN value:${SECRET_2}`);
    await s.run('/config view setting:PAYMENT_API_TOKEN');
    await s.run('/config history setting:PAYMENT_API_TOKEN');
    await s.run('/config list');
    await s.complete('/config set setting:PAYMENT_API_TOKEN value:');
    await s.complete('/config rollback setting:PAYMENT_API_TOKEN version:');
    await s.run('/config rollback setting:PAYMENT_API_TOKEN version:2');
    await s.press('Confirm');
    await s.run(`/config set setting:PAYMENT_API_TOKEN value:${SECRET}`); // unchanged: the refusal must not name it
    await s.run(`/config set setting:EXPORT_WEBHOOK_URL value:${HOOK}`);
    await s.run('/config set setting:EXPORT_WEBHOOK_URL value:not-a-url-HOOKSECRET99');
    // A refusal whose reason quotes part of the value (the scheme and host of a URL).
    await s.run('/config set setting:EXPORT_WEBHOOK_URL value:http://hooksecret-host.example/x');

    expect(svc.get('PAYMENT_API_TOKEN')).toBe(SECRET);
    expect(svc.get('EXPORT_WEBHOOK_URL')).toBe(HOOK);
    const replies = JSON.stringify(bot.discord.calls);
    expect(replies).toContain(MASK);
    const audit = JSON.stringify(await svc.auditLog({}));
    const history = JSON.stringify([
      ...(await svc.history('PAYMENT_API_TOKEN')),
      ...(await svc.history('EXPORT_WEBHOOK_URL')),
    ]);
    for (const secret of [SECRET, SECRET_2, 'HOOKSECRET99', 'hooksecret-host']) {
      expect(replies).not.toContain(secret);
      expect(logs.lines.join('\n')).not.toContain(secret);
      expect(audit).not.toContain(secret);
      expect(history).not.toContain(secret);
    }
  });

  it('is stored encrypted in system_configs, config_versions and config_audit_logs, naming its key id', async () => {
    // Earlier tests may have left either secret stored: what matters is how it is stored.
    await ensureValue(svc.set('PAYMENT_API_TOKEN', SECRET, alice));
    await ensureValue(svc.set('PAYMENT_API_TOKEN', SECRET_2, alice));
    const raw = await rawDocuments(db);
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain(SECRET_2);
    const current = await db.conn.collection('system_configs').findOne({ key: 'PAYMENT_API_TOKEN' });
    expect(current?.value).toMatchObject({ enc: 'aes-256-gcm:v2', kid: keyId(key) });
    const versions = await db.conn.collection('config_versions').find({ key: 'PAYMENT_API_TOKEN' }).toArray();
    // A random IV per write: the same secret never encrypts the same way twice.
    const ivs = versions
      .filter((v) => v.value && typeof v.value === 'object')
      .map((v) => (v.value as { iv: string }).iv);
    expect(new Set(ivs).size).toBe(ivs.length);
  });

  it('a restart with the wrong key fails clearly instead of serving garbage', async () => {
    await ensureValue(svc.set('PAYMENT_API_TOKEN', SECRET, alice));
    const wrong = new ConfigService({
      registry: secretRegistry(),
      conn: db.conn,
      encryptionKeys: [randomBytes(32)],
    });
    await expect(wrong.init()).rejects.toThrow(
      /Cannot decrypt the stored value of [A-Z_]+: it was written with key id \w{8}, which is not in CONFIG_ENCRYPTION_KEYS/,
    );
    await wrong.close();
  });
});

describe('without CONFIG_ENCRYPTION_KEYS', () => {
  it('starts while no sensitive value is stored, and refuses to store one, saying how to fix it', async () => {
    const db = await openTestDb('sensitive_nokey');
    try {
      const svc = await service(db, []);
      const res = await outcome(svc.set('EXPORT_WEBHOOK_URL', HOOK, alice));
      expect(!res.ok && res.error.code).toBe('ENCRYPTION_REQUIRED');
      expect(!res.ok && res.error.message).toMatch(
        /EXPORT_WEBHOOK_URL is sensitive.*CONFIG_ENCRYPTION_KEYS.*openssl rand -base64 32.*Nothing was changed/,
      );
      expect(svc.get('EXPORT_WEBHOOK_URL')).toBeNull();
      expect(await rawDocuments(db)).not.toContain('HOOKSECRET99');
      // Resetting an unset sensitive key to its (unset) default needs no key either.
      expect(await bindModels(db.conn).ConfigVersion.countDocuments({ key: 'EXPORT_WEBHOOK_URL' })).toBe(1);
      await svc.close();
    } finally {
      await db.drop();
    }
  });

  it('refuses to start when encrypted values are stored', async () => {
    const db = await openTestDb('sensitive_lostkey');
    try {
      const withKey = await service(db, [randomBytes(32)]);
      await withKey.set('PAYMENT_API_TOKEN', SECRET, alice);
      await withKey.close();
      const without = new ConfigService({ registry: secretRegistry(), conn: db.conn });
      await expect(without.init()).rejects.toThrow(
        /PAYMENT_API_TOKEN is stored encrypted, but no CONFIG_ENCRYPTION_KEYS is set/,
      );
      await without.close();
    } finally {
      await db.drop();
    }
  });
});

describe('rotating the encryption key', () => {
  it('re-encrypts every stored value with the new key, can be re-run, is audited once, and the old key can go', async () => {
    const db = await openTestDb('sensitive_rotate');
    try {
      const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
      const before = await service(db, [oldKey]);
      await before.set('PAYMENT_API_TOKEN', SECRET, alice);
      await before.set('PAYMENT_API_TOKEN', SECRET_2, alice);
      await before.set('EXPORT_WEBHOOK_URL', HOOK, alice);
      await before.close();

      // The new key first, the old one still listed: both read, new writes use the new one.
      const both = await service(db, [newKey, oldKey]);
      expect(both.get('PAYMENT_API_TOKEN')).toBe(SECRET_2);
      const first = await both.rotateEncryption(actor('cli', 'ops@host'));
      expect(first).toMatchObject({ keyId: keyId(newKey), audited: true });
      // Current values and versions; audit rows never held the secrets (MASK in their place).
      expect(first.resealed).toBeGreaterThanOrEqual(5);
      const again = await both.rotateEncryption(actor('cli', 'ops@host'));
      expect(again).toMatchObject({ resealed: 0, audited: false });
      await both.close();

      const raw = await rawDocuments(db);
      expect(raw).not.toContain(keyId(oldKey));
      expect(raw).not.toContain(SECRET);
      const rows = await bindModels(db.conn).ConfigAudit.find({ action: 'rotate-key' }).lean();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.reason).toContain(keyId(newKey));

      const onlyNew = await service(db, [newKey]);
      expect(onlyNew.get('PAYMENT_API_TOKEN')).toBe(SECRET_2);
      expect(onlyNew.get('EXPORT_WEBHOOK_URL')).toBe(HOOK);
      const history = await bindModels(db.conn)
        .ConfigVersion.find({ key: 'PAYMENT_API_TOKEN' })
        .sort({ version: 1 })
        .lean();
      expect(history.at(-1)?.value).toMatchObject({ kid: keyId(newKey) });
      // A rollback reads an old version: it must decrypt with the new key alone.
      expect(await outcome(onlyNew.rollback('PAYMENT_API_TOKEN', 2, alice))).toMatchObject({ ok: true });
      expect(onlyNew.get('PAYMENT_API_TOKEN')).toBe(SECRET);
      await onlyNew.close();
    } finally {
      await db.drop();
    }
  });

  it('re-encrypts the sealed values of change requests and snapshots too, so the old key can go', async () => {
    const db = await openTestDb('sensitive_rotate_requests');
    try {
      const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
      const before = new ConfigService({
        registry: secretRegistry(),
        conn: db.conn,
        encryptionKeys: [oldKey],
        approvals: { low: 1 },
      });
      await before.init();
      const made = await before.set('PAYMENT_API_TOKEN', SECRET, alice).then(
        () => undefined,
        (e: unknown) => e as { code: string; context: { request: string } },
      );
      expect(made?.code).toBe('APPROVAL_REQUIRED');
      const snapshots = new SnapshotStore(db.conn);
      await snapshots.insert({
        _id: 'with-secret',
        createdBy: alice,
        createdAt: new Date(),
        values: [
          {
            key: 'PAYMENT_API_TOKEN',
            scope: 'global',
            version: 1,
            value: before.sealValue('PAYMENT_API_TOKEN', SECRET_2),
          },
        ],
      });
      await before.close();

      const both = await service(db, [newKey, oldKey]);
      await both.rotateEncryption(actor('cli', 'ops@host'));
      expect(await snapshots.reseal((slot, stored) => both.resealValue(slot, stored))).toBe(1);
      await both.close();
      const raw = JSON.stringify(
        await Promise.all(
          ['config_change_requests', 'config_snapshots'].map((c) => db.conn.collection(c).find({}).toArray()),
        ),
      );
      expect(raw).not.toContain(keyId(oldKey));
      expect(raw).not.toContain(SECRET);

      const onlyNew = await service(db, [newKey]);
      expect((await onlyNew.requests.get(String(made?.context.request))).changes[0]?.value).toBe(SECRET);
      const snap = await snapshots.get('with-secret');
      expect(onlyNew.openValue('PAYMENT_API_TOKEN', snap?.values[0]?.value)).toBe(SECRET_2);
      await onlyNew.close();
    } finally {
      await db.drop();
    }
  });

  it('also encrypts values of a key stored in clear before it was declared sensitive', async () => {
    const db = await openTestDb('sensitive_clear');
    try {
      const plainRegistry = buildRegistry({
        ...Object.fromEntries(registry),
        PAYMENT_API_TOKEN: { ...secretRegistry().get('PAYMENT_API_TOKEN')!, sensitive: false },
      });
      const plain = new ConfigService({ registry: plainRegistry, conn: db.conn });
      await plain.init();
      await plain.set('PAYMENT_API_TOKEN', SECRET, alice);
      await plain.close();
      expect(await rawDocuments(db)).toContain(SECRET);

      const svc = await service(db, [randomBytes(32)]);
      const done = await svc.rotateEncryption(actor('cli', 'ops@host'));
      expect(await rawDocuments(db)).not.toContain(SECRET);
      expect(svc.get('PAYMENT_API_TOKEN')).toBe(SECRET);
      // The audit row that held it in clear keeps its digest instead, and the chain still verifies.
      expect(done.redacted).toBeGreaterThan(0);
      expect((await svc.trail.verify()).intact).toBe(true);
      await svc.close();
    } finally {
      await db.drop();
    }
  });
});
