import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { ConfigService } from '../../src/config/service.js';
import { buildExport, MAX_FILE_BYTES, type ExportFile } from '../../src/transfer/export-file.js';
import { parseExportFile } from '../../src/transfer/export-parse.js';
import { applyImport, planImport, planLines } from '../../src/transfer/import-plan.js';
import { UserError } from '../../src/base/errors.js';
import { actor, openTestDb } from '../helpers/db.js';

const GUILD = '900000000000000001';
const SECRET = 'https://hooks.example.com/s3cr3t-token';

/** A service over a database of the test's own, with staging declared and an encryption key (or `keys`). */
async function service(label: string, keys: Buffer[] = [randomBytes(32)]) {
  const db = await openTestDb(label);
  const svc = new ConfigService({
    registry,
    conn: db.conn,
    encryptionKeys: keys,
    environments: ['production', 'staging'],
  });
  await svc.init();
  onTestFinished(async () => {
    await svc.close();
    await db.drop();
  });
  return { db, svc };
}

/** Values in three scopes and a secret. */
async function seed(svc: ConfigService) {
  await svc.set('MAX_BATCH_SIZE', '200', actor());
  await svc.set('MAX_BATCH_SIZE', '50', actor(), undefined, {}, { scope: 'env:staging' });
  await svc.set('MAX_BATCH_SIZE', '25', actor(), undefined, {}, { scope: `guild:${GUILD}` });
  await svc.set('LOG_LEVEL', 'debug', actor(), undefined, {}, { scope: 'env:staging' });
  await svc.set('EXPORT_WEBHOOK_URL', SECRET, actor());
}

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err.message;
    throw err;
  }
  throw new Error('not refused');
};

describe('export file', () => {
  it('holds every key with its description and each scope holding a value, sensitive values left out', async () => {
    const { svc } = await service('transfer_build', [randomBytes(32)]);
    await seed(svc);
    const { file, text, omitted } = await buildExport(svc, { now: new Date('2026-03-01T10:00:00Z') });
    expect(file).toMatchObject({ format: 'config-bot-export', formatVersion: 1, secrets: 'omitted' });
    expect(file.environments).toEqual(['production', 'staging']);
    expect(Object.keys(file.keys).sort()).toEqual([...registry.keys()].sort());
    expect(file.keys.MAX_BATCH_SIZE?.description).toBe(registry.get('MAX_BATCH_SIZE')?.description);
    expect(file.keys.MAX_BATCH_SIZE?.values).toEqual({
      global: { value: 200, version: 2 },
      'env:staging': { value: 50, version: 1 },
      [`guild:${GUILD}`]: { value: 25, version: 1 },
    });
    expect(file.keys.EXPORT_WEBHOOK_URL?.values.global).toEqual({ omitted: 'sensitive', version: 2 });
    expect(omitted).toBe(1);
    expect(text).not.toContain('s3cr3t');
  });

  it('with secrets seals sensitive values under the current key, and refuses without a key', async () => {
    const { svc } = await service('transfer_sealed', [randomBytes(32)]);
    await seed(svc);
    const { file, text } = await buildExport(svc, { secrets: true });
    expect(text).not.toContain('s3cr3t');
    expect(file.keys.EXPORT_WEBHOOK_URL?.values.global).toMatchObject({
      encrypted: { enc: 'aes-256-gcm:v2', kid: file.encryptionKeyId },
    });
    const { svc: keyless } = await service('transfer_keyless', []);
    await expect(buildExport(keyless, { secrets: true })).rejects.toThrow(
      /secrets:true exports sensitive values encrypted, but CONFIG_ENCRYPTION_KEYS is not set/,
    );
  });

  it('limited to one scope holds only that scope', async () => {
    const { svc } = await service('transfer_scope');
    await seed(svc);
    const { file } = await buildExport(svc, { scope: 'env:staging' });
    expect(file.scope).toBe('env:staging');
    expect(file.keys.MAX_BATCH_SIZE?.values).toEqual({ 'env:staging': { value: 50, version: 1 } });
    expect(file.keys.LOG_LEVEL?.values).toEqual({ 'env:staging': { value: 'debug', version: 1 } });
    expect(file.keys.SCHEDULE_TIMEZONE?.values).toEqual({});
  });
});

describe('reading a file', () => {
  const valid: ExportFile = {
    format: 'config-bot-export',
    formatVersion: 1,
    exportedAt: '2026-03-01T10:00:00.000Z',
    environments: ['production'],
    secrets: 'omitted',
    keys: { LOG_LEVEL: { description: 'x', values: { global: { value: 'warn', version: 3 } } } },
  };

  it('reads a valid file', () => {
    expect(parseExportFile(JSON.stringify(valid))).toEqual(valid);
  });

  it.each([
    ['not JSON', 'hello', /it is not valid JSON/],
    ['not UTF-8', Buffer.from([0xff, 0xfe, 0x00]), /it is not UTF-8 text/],
    ['an array', '[1,2]', /it is not a JSON object/],
    [
      'another format',
      JSON.stringify({ ...valid, format: 'other' }),
      /its "format" is not "config-bot-export"/,
    ],
    [
      'another format version',
      JSON.stringify({ ...valid, formatVersion: 2 }),
      /format version 2; this bot reads version 1/,
    ],
    [
      'another shape',
      JSON.stringify({ ...valid, keys: { LOG_LEVEL: { values: { global: { v: 1 } } } } }),
      /keys\.LOG_LEVEL\.values\.global/,
    ],
    ['deep nesting', `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`, /nested 5001 levels deep/],
    [
      'a __proto__ key',
      JSON.stringify(valid).replace('"LOG_LEVEL"', '"__proto__"'),
      /uses the name "__proto__"/,
    ],
    [
      'a huge string',
      JSON.stringify({ ...valid, exportedAt: 'x'.repeat(100_000) }),
      /a string of 100000 characters/,
    ],
    [
      'thousands of entries',
      JSON.stringify({
        ...valid,
        keys: {
          LOG_LEVEL: {
            values: Object.fromEntries(
              Array.from({ length: 1500 }, (_, n) => [
                `guild:${9000000000000 + n}00000`,
                { value: 'x', version: 1 },
              ]),
            ),
          },
        },
      }),
      /it has 1500 values \(at most 1000\)/,
    ],
    [
      'over 1 MB',
      JSON.stringify({ ...valid, pad: ' '.repeat(MAX_FILE_BYTES) }),
      /more than the 1048576 bytes \(1 MB\)/,
    ],
  ])('refuses %s with one message', (_name, content, message) => {
    const text = refusal(() => parseExportFile(content));
    expect(text).toMatch(/^Not an export file this bot can import: /);
    expect(text).toMatch(message);
    expect(text).toMatch(/Nothing was changed\.$/);
  });
});

describe('import plan and apply', () => {
  it('reports unchanged, changed, invalid and unknown entries, and applies only the valid changes', async () => {
    const { db, svc } = await service('transfer_plan');
    await seed(svc);
    const file = parseExportFile(
      JSON.stringify({
        format: 'config-bot-export',
        formatVersion: 1,
        exportedAt: '2026-03-01T10:00:00.000Z',
        environments: ['production', 'staging'],
        secrets: 'omitted',
        keys: {
          MAX_BATCH_SIZE: {
            values: {
              global: { value: 200, version: 9 },
              'env:staging': { value: 75, version: 9 },
              'env:qa': { value: 10, version: 1 },
            },
          },
          LOG_LEVEL: { values: { global: { value: 'loud', version: 1 } } },
          SCHEDULE_TIMEZONE: { values: { 'guild:900000000000000001': { value: 'UTC', version: 1 } } },
          MAINTENANCE_MODE: { values: { global: { value: true, version: 1 } } },
          NOT_A_KEY: { values: { global: { value: 1, version: 1 } } },
          EXPORT_WEBHOOK_URL: { values: { global: { omitted: 'sensitive', version: 2 } } },
        },
      }),
    );
    const plan = await planImport(svc, file);
    const lines = planLines(plan);
    expect(lines.unchanged).toEqual(['MAX_BATCH_SIZE: 200']);
    expect(lines.changed).toEqual([
      'MAX_BATCH_SIZE at env:staging: 50 → 75',
      'MAINTENANCE_MODE: false → true',
    ]);
    expect(lines.invalid).toEqual([
      expect.stringMatching(/^MAX_BATCH_SIZE at env:qa: "qa" is not a declared environment/),
      expect.stringMatching(/^LOG_LEVEL: .*loud/),
      expect.stringMatching(
        /^SCHEDULE_TIMEZONE at guild:900000000000000001: SCHEDULE_TIMEZONE cannot be set per server/,
      ),
    ]);
    expect(lines.unknown).toEqual(['NOT_A_KEY: not a setting of this bot']);
    expect(lines.omitted).toEqual(['EXPORT_WEBHOOK_URL: sensitive, not in the file']);

    const results = await applyImport(svc, plan.changes, actor(), 'test import');
    expect(results.map((r) => r.status)).toEqual(['imported', 'imported']);
    expect(svc.get('MAINTENANCE_MODE')).toBe(true);
    expect(svc.get('MAX_BATCH_SIZE', { environment: 'staging' })).toBe(75);
    const versions = await bindModels(db.conn).ConfigVersion.find({ action: 'import' }).lean();
    expect(versions.map((v) => v.key).sort()).toEqual(['MAINTENANCE_MODE', 'MAX_BATCH_SIZE|env:staging']);
  });

  it('checks cross-key rules on the values the import leaves, and orders the changes so each step keeps them', async () => {
    const { svc } = await service('transfer_rules');
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '90', actor());
    await svc.set('DAILY_EXPORT_TIME', '22:00', actor());
    const file = (keys: ExportFile['keys']): ExportFile => ({
      format: 'config-bot-export',
      formatVersion: 1,
      exportedAt: '2026-03-01T10:00:00.000Z',
      environments: ['production'],
      secrets: 'omitted',
      keys,
    });
    // Fine together (20:00 + 120 min), though the buffer alone would break the rule first.
    const ok = await planImport(
      svc,
      file({
        IMMEDIATE_EXPORT_BUFFER: { values: { global: { value: 120, version: 1 } } },
        DAILY_EXPORT_TIME: { values: { global: { value: '20:00', version: 1 } } },
      }),
    );
    expect(ok.changes.map((c) => c.key)).toEqual(['DAILY_EXPORT_TIME', 'IMMEDIATE_EXPORT_BUFFER']);
    expect((await applyImport(svc, ok.changes, actor(), undefined)).map((r) => r.status)).toEqual([
      'imported',
      'imported',
    ]);
    // Broken with what it leaves: refused, with the rule's words (the buffer is already 120).
    const bad = await planImport(
      svc,
      file({
        IMMEDIATE_EXPORT_BUFFER: { values: { global: { value: 120, version: 1 } } },
        DAILY_EXPORT_TIME: { values: { global: { value: '22:00', version: 1 } } },
      }),
    );
    expect(bad.changes).toEqual([]);
    expect(planLines(bad).unchanged).toEqual(['IMMEDIATE_EXPORT_BUFFER: 120']);
    expect(planLines(bad).invalid).toEqual([
      'DAILY_EXPORT_TIME: DAILY_EXPORT_TIME 22:00 with IMMEDIATE_EXPORT_BUFFER 120: the export time plus the buffer must end before midnight, or a buffered export would run on the next day and land in the wrong export.',
    ]);
  });

  it('refuses a change whose key moved since the plan, and applies the others', async () => {
    const { svc } = await service('transfer_moved');
    const plan = await planImport(svc, {
      format: 'config-bot-export',
      formatVersion: 1,
      exportedAt: '2026-03-01T10:00:00.000Z',
      environments: ['production'],
      secrets: 'omitted',
      keys: {
        MAX_BATCH_SIZE: { values: { global: { value: 300, version: 1 } } },
        LOG_LEVEL: { values: { global: { value: 'warn', version: 1 } } },
      },
    });
    await svc.set('MAX_BATCH_SIZE', '400', actor('222222222222222222', 'bob'));
    const results = await applyImport(svc, plan.changes, actor(), undefined);
    expect(results).toEqual([
      expect.objectContaining({
        key: 'MAX_BATCH_SIZE',
        status: 'failed',
        message: expect.stringMatching(/changed since this preview/),
      }),
      expect.objectContaining({ key: 'LOG_LEVEL', status: 'imported' }),
    ]);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(400);
  });

  it('round-trips every scope and the sealed secret into an empty database with the same key', async () => {
    const key = randomBytes(32);
    const { svc: from } = await service('transfer_from', [key]);
    await seed(from);
    const { text } = await buildExport(from, { secrets: true });
    const { svc: to } = await service('transfer_to', [key]);
    const plan = await planImport(to, parseExportFile(text));
    expect(planLines(plan).invalid).toEqual([]);
    const results = await applyImport(to, plan.changes, actor(), undefined);
    expect(results.every((r) => r.status === 'imported')).toBe(true);
    for (const at of [
      {},
      { environment: 'staging' },
      { guildId: GUILD },
      { environment: 'staging', guildId: GUILD },
    ])
      for (const k of registry.keys())
        expect(to.get(k, at), `${k} ${JSON.stringify(at)}`).toEqual(from.get(k, at));
    expect(to.get('EXPORT_WEBHOOK_URL')).toBe(SECRET);

    // Another key set cannot open it: those keys are refused, the rest would apply.
    const { svc: other } = await service('transfer_other', [randomBytes(32)]);
    const foreign = await planImport(other, parseExportFile(text));
    expect(planLines(foreign).invalid).toEqual([
      expect.stringMatching(
        /^EXPORT_WEBHOOK_URL: encrypted with a key \(key id [0-9a-f]{8}\) this bot's CONFIG_ENCRYPTION_KEYS cannot open: the file comes from another key set$/,
      ),
    ]);
    expect(foreign.changes.length).toBeGreaterThan(0);
  });
});
