import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { text } from '../../src/config/kinds.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { ConfigService, MASK } from '../../src/config/service.js';
import { runDailyExport } from '../../src/jobs/daily-export.js';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { startBot, type Bot } from '../helpers/discord.js';
import { captureLogs } from '../helpers/logs.js';

const SECRET = 'sk-live-Zq9v8TOPSECRETx7';
const SECRET_2 = 'sk-live-second-SECRET-44';
const encryptionKey = randomBytes(32);

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

let db: TestDb;
let svc: ConfigService;
let bot: Bot;
let logs: ReturnType<typeof captureLogs>;
let exportDir: string;

beforeAll(async () => {
  logs = captureLogs();
  db = await openTestDb('sensitive');
  svc = new ConfigService({ registry: secretRegistry(), conn: db.conn, encryptionKey });
  await svc.init();
  bot = await startBot(svc);
  exportDir = mkdtempSync(path.join(tmpdir(), 'config-bot-secret-'));
});
afterAll(async () => {
  logs.stop();
  await bot.close();
  await svc.close();
  await db.drop();
  rmSync(exportDir, { recursive: true, force: true });
});

describe('sensitive values', () => {
  it('refuses to start without CONFIG_ENCRYPTION_KEY and says why', () => {
    expect(() => new ConfigService({ registry: secretRegistry(), conn: db.conn })).toThrow(
      /CONFIG_ENCRYPTION_KEY is not set, but PAYMENT_API_TOKEN is sensitive.*openssl rand -base64 32/,
    );
  });

  it('never shows the value in Discord, logs, the audit view or the export, while code can read it', async () => {
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
    await s.run(`/config set setting:PAYMENT_API_TOKEN value:${SECRET}`); // unchanged: the refusal names the value?

    expect(svc.get('PAYMENT_API_TOKEN')).toBe(SECRET);
    const replies = JSON.stringify(bot.discord.calls);
    expect(replies).toContain(MASK);
    const audit = JSON.stringify(await svc.auditLog({ key: 'PAYMENT_API_TOKEN' }));
    const history = JSON.stringify(await svc.history('PAYMENT_API_TOKEN'));
    await runDailyExport(
      { config: svc, conn: db.conn, exportDir, instanceId: 't' },
      new Date(Date.now() + 1000),
      '2026-02-01',
    );
    const files = readdirSync(path.join(exportDir, '2026-02-01')).map((f) =>
      readFileSync(path.join(exportDir, '2026-02-01', f), 'utf8'),
    );
    for (const secret of [SECRET, SECRET_2]) {
      expect(replies).not.toContain(secret);
      expect(logs.lines.join('\n')).not.toContain(secret);
      expect(audit).not.toContain(secret);
      expect(history).not.toContain(secret);
      expect(files.join('\n')).not.toContain(secret);
    }
  });

  it('is stored encrypted in system_configs, config_versions and config_audit_logs', async () => {
    const raw = JSON.stringify(
      await Promise.all(
        ['system_configs', 'config_versions', 'config_audit_logs'].map((c) =>
          db.conn.collection(c).find().toArray(),
        ),
      ),
    );
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain(SECRET_2);
    const current = await db.conn.collection('system_configs').findOne({ key: 'PAYMENT_API_TOKEN' });
    expect(current?.value).toMatchObject({ enc: 'aes-256-gcm:v1' });
    const versions = await db.conn.collection('config_versions').find({ key: 'PAYMENT_API_TOKEN' }).toArray();
    // A random IV per write: the same secret never encrypts the same way twice.
    const ivs = versions.map((v) => (v.value as { iv: string }).iv);
    expect(new Set(ivs).size).toBe(ivs.length);
  });

  it('a restart with the wrong key fails clearly instead of serving garbage', async () => {
    const wrong = new ConfigService({
      registry: secretRegistry(),
      conn: db.conn,
      encryptionKey: randomBytes(32),
    });
    await expect(wrong.init()).rejects.toThrow(/Cannot decrypt the stored value of PAYMENT_API_TOKEN/);
    await wrong.close();
  });
});
