import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { ConfigService } from '../../src/config/service.js';
import type { ExportFile } from '../../src/transfer/export-file.js';
import type { UploadOptions } from '../../src/offline/uploads.js';
import type { Simulated } from '../../src/offline/simulated.js';
import { actor, openTestDb } from '../helpers/db.js';
import { as, displayed, startBot } from '../helpers/discord.js';

const SECRET = 'https://hooks.example.com/s3cr3t-token';

/** A bot over a database of the test's own, with staging declared and an encryption key (or none). */
async function bot(label: string, keys: Buffer[] = [randomBytes(32)]) {
  const db = await openTestDb(label);
  const svc = new ConfigService({
    registry,
    conn: db.conn,
    encryptionKeys: keys,
    environments: ['production', 'staging'],
  });
  await svc.init();
  const b = await startBot(svc);
  onTestFinished(async () => {
    await b.close();
    await svc.close();
    await db.drop();
  });
  const audit = () => bindModels(db.conn).ConfigAudit.find({}).lean();
  const imports = () => bindModels(db.conn).ConfigVersion.countDocuments({ action: 'import' });
  /** Runs /config export and returns the reply and the file it attached. */
  const exported = async (line = '/config export', sim: Simulated = as.admin()) => {
    const from = b.discord.calls.length;
    const replies = await b.session(sim).run(line);
    const call = b.discord.calls.slice(from).find((c) => c.fileData?.length);
    const text = call?.fileData?.[0]?.toString('utf8');
    return { replies, call, text, file: text ? (JSON.parse(text) as ExportFile) : undefined };
  };
  /** Uploads a file as `sim` and runs /config import with it. */
  const importing = async (
    content: string,
    extra = '',
    sim: Simulated = as.admin(),
    opts: UploadOptions = {},
  ) => {
    const file = await b.discord.uploads.add('config.json', content, opts);
    const s = b.session({ ...sim, files: { 'config.json': file } });
    return { s, file, replies: await s.run(`/config import file:config.json ${extra}`) };
  };
  return { db, svc, bot: b, audit, imports, exported, importing };
}

async function seed(svc: ConfigService) {
  await svc.set('MAX_BATCH_SIZE', '200', actor());
  await svc.set('MAX_BATCH_SIZE', '50', actor(), undefined, {}, { scope: 'env:staging' });
  await svc.set('LOG_LEVEL', 'debug', actor(), undefined, {}, { scope: 'env:staging' });
  await svc.set('EXPORT_WEBHOOK_URL', SECRET, actor());
}

describe('/config export', () => {
  it('replies privately with a JSON file of every key and scope, sensitive values left out, and audits it', async () => {
    const t = await bot('dx_export');
    await seed(t.svc);
    const { replies, call, text, file } = await t.exported('/config export', as.member());
    expect(replies[0]).toMatchObject({ kind: 'defer', flags: 64 });
    expect(call?.files?.[0]).toMatch(/^config-export-.*\.json$/);
    expect(displayed(replies.at(-1)?.embeds[0]?.description)).toMatch(/values, 1 sensitive left out/);
    expect(file?.keys.MAX_BATCH_SIZE?.values).toEqual({
      global: { value: 200, version: 2 },
      'env:staging': { value: 50, version: 1 },
    });
    expect(file?.keys.EXPORT_WEBHOOK_URL?.values.global).toEqual({ omitted: 'sensitive', version: 2 });
    expect(text).not.toContain('s3cr3t');
    expect(t.bot.discord.violations).toEqual([]);
    expect((await t.audit()).filter((r) => r.action === 'export')).toEqual([
      expect.objectContaining({ status: 'success', actor: { id: as.member().user.id, tag: 'member' } }),
    ]);
  });

  it('with secrets:true exports sensitive values encrypted for an admin, and refuses a member', async () => {
    const t = await bot('dx_secrets');
    await seed(t.svc);
    const { text, file } = await t.exported('/config export secrets:true');
    expect(text).not.toContain('s3cr3t');
    expect(file?.keys.EXPORT_WEBHOOK_URL?.values.global).toMatchObject({
      encrypted: { enc: 'aes-256-gcm:v2' },
    });

    const refused = await t.exported('/config export secrets:true', as.member());
    expect(refused.call).toBeUndefined();
    expect(refused.replies.at(-1)?.embeds[0]?.title).toBe('Not allowed');
    expect((await t.audit()).filter((r) => r.action === 'export' && r.status === 'denied')).toHaveLength(1);
  });

  it('refuses secrets:true clearly when the bot has no encryption key', async () => {
    const t = await bot('dx_keyless', []);
    const r = await t.exported('/config export secrets:true');
    expect(r.call).toBeUndefined();
    expect(displayed(r.replies.at(-1)?.embeds[0]?.description)).toMatch(
      /secrets:true exports sensitive values encrypted, but CONFIG_ENCRYPTION_KEYS is not set on this bot\. Nothing was exported\./,
    );
  });
});

describe('/config import', () => {
  it('shows a preview from the attached file, and Confirm applies the valid changes as import versions', async () => {
    const key = randomBytes(32);
    const source = await bot('dx_source', [key]);
    await seed(source.svc);
    const { text } = await source.exported('/config export secrets:true');
    const file = JSON.parse(text ?? '{}') as ExportFile;
    file.keys.NOT_A_KEY = { values: { global: { value: 1, version: 1 } } };
    file.keys.LOG_LEVEL = {
      values: { ...file.keys.LOG_LEVEL?.values, 'env:qa': { value: 'warn', version: 1 } },
    };

    const t = await bot('dx_target', [key]);
    const { s, replies } = await t.importing(JSON.stringify(file));
    const preview = replies.at(-1)?.embeds[0];
    expect(preview?.title).toBe('Import 4 changes from config.json?');
    const fields = Object.fromEntries((preview?.fields ?? []).map((f) => [f.name, displayed(f.value)]));
    expect(fields.Impact).toMatch(/^Applies at once on Confirm \(no key needs approvals\)\./);
    expect(fields['Changes (4)']).toBe(
      [
        'MAX_BATCH_SIZE: 100 → 200',
        'MAX_BATCH_SIZE at env:staging: (not set) → 50',
        'LOG_LEVEL at env:staging: (not set) → debug',
        'EXPORT_WEBHOOK_URL: (not set) → ••••••',
      ].join('\n'),
    );
    expect(fields['Invalid (not imported) (1)']).toMatch(
      /^LOG_LEVEL at env:qa: "qa" is not a declared environment/,
    );
    expect(fields['Unknown keys (not imported) (1)']).toBe('NOT_A_KEY: not a setting of this bot');
    expect(await t.imports()).toBe(0);

    const done = await s.press('Confirm');
    expect(done.map((r) => r.kind)).toEqual(['deferUpdate', 'editReply']);
    expect(done[1]?.embeds[0]?.title).toBe('Imported 4 of 4 changes from config.json');
    expect(done[1]?.components).toEqual([]);
    expect(t.svc.get('MAX_BATCH_SIZE')).toBe(200);
    expect(t.svc.get('MAX_BATCH_SIZE', { environment: 'staging' })).toBe(50);
    expect(t.svc.get('EXPORT_WEBHOOK_URL')).toBe(SECRET);
    expect(await t.imports()).toBe(4);
    expect(t.bot.discord.violations).toEqual([]);
  });

  it('with dry-run shows the preview without buttons and changes nothing', async () => {
    const t = await bot('dx_dry');
    const { text } = await t.exported();
    await t.svc.set('MAX_BATCH_SIZE', '300', actor());
    const { replies } = await t.importing(text ?? '', 'dry-run:true');
    expect(replies.at(-1)?.embeds[0]?.title).toBe('Dry run: import of config.json');
    expect(displayed(replies.at(-1)?.embeds[0]?.fields?.[0]?.value)).toBe('MAX_BATCH_SIZE: 300 → 100');
    expect(replies.at(-1)?.components).toEqual([]);
    expect(t.svc.get('MAX_BATCH_SIZE')).toBe(300);
    expect(await t.imports()).toBe(0);
    expect((await t.audit()).some((r) => r.action === 'import-check')).toBe(true);
  });

  it('refuses a member before downloading anything, and audits it', async () => {
    const t = await bot('dx_member');
    const { file, replies } = await t.importing('{}', '', as.member());
    expect(replies.at(-1)?.embeds[0]?.title).toBe('Not allowed');
    expect(t.bot.discord.uploads.downloads.get(file.id)).toBeUndefined();
    expect((await t.audit()).filter((r) => r.action === 'import' && r.status === 'denied')).toHaveLength(1);
  });

  it('refuses a file over 1 MB by its size before downloading it, and again while reading it', async () => {
    const t = await bot('dx_large');
    const big = `{"pad":"${'x'.repeat(1_100_000)}"}`;
    const claimed = await t.importing(big);
    expect(displayed(claimed.replies.at(-1)?.embeds[0]?.description)).toMatch(
      /config\.json is 1100010 bytes; an import reads at most 1048576 bytes \(1 MB\)\. Nothing was changed\./,
    );
    expect(t.bot.discord.uploads.downloads.get(claimed.file.id)).toBeUndefined();
    // A size that lies, served without a length: refused while reading.
    const lying = await t.importing(big, '', as.admin(), { size: 100, chunked: true });
    expect(displayed(lying.replies.at(-1)?.embeds[0]?.description)).toMatch(
      /is more than 1048576 bytes; an import reads at most/,
    );
    expect(t.bot.discord.uploads.downloads.get(lying.file.id)).toBe(1);
    expect(await t.imports()).toBe(0);
  });

  it.each([
    ['not JSON', 'name,value\nLOG_LEVEL,warn', /it is not valid JSON/],
    [
      'hostile',
      '{"format":"config-bot-export","formatVersion":1,"__proto__":{"admin":true}}',
      /uses the name "__proto__"/,
    ],
    ['wrong format version', '{"format":"config-bot-export","formatVersion":7}', /format version 7/],
  ])(
    'refuses a file that is %s with one clear message, and writes nothing',
    async (_name, content, message) => {
      const t = await bot(`dx_bad_${_name.replace(/\W/g, '')}`);
      const { replies } = await t.importing(content);
      const text = displayed(replies.at(-1)?.embeds[0]?.description);
      expect(text).toMatch(/^Not an export file this bot can import: /);
      expect(text).toMatch(message);
      expect(replies.at(-1)?.components).toEqual([]);
      expect(await t.imports()).toBe(0);
      expect((await t.audit()).filter((r) => r.action === 'import')).toEqual([
        expect.objectContaining({ status: 'failed', error: expect.stringMatching(message) }),
      ]);
    },
  );
});
