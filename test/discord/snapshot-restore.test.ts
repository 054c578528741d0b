import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { ConfigService } from '../../src/config/service.js';
import { buttonsOf } from '../../src/offline/console-session.js';
import { actor, openTestDb } from '../helpers/db.js';
import { as, displayed, startBot } from '../helpers/discord.js';

const someone = actor('222222222222222222', 'someone');
const staging = { scope: 'env:staging' };

/**
 * A bot over a service of the test's own (an encryption key, a staging environment) and a
 * snapshot `base` taken where MAX_BATCH_SIZE is 200 globally and 50 in staging, and the webhook
 * (sensitive, global only) is set.
 */
async function restoreBot(label: string) {
  const db = await openTestDb(label);
  const svc = new ConfigService({
    registry,
    conn: db.conn,
    encryptionKeys: [randomBytes(32)],
    environments: ['production', 'staging'],
  });
  await svc.init();
  const bot = await startBot(svc);
  onTestFinished(async () => {
    await bot.close();
    await svc.close();
    await db.drop();
  });
  await svc.set('MAX_BATCH_SIZE', '200', actor());
  await svc.set('MAX_BATCH_SIZE', '50', actor(), undefined, {}, staging);
  await svc.set('EXPORT_WEBHOOK_URL', 'https://hooks.example.com/a', actor());
  const s = bot.session();
  await s.run('/config snapshot create name:base');
  const versions = (filter: Record<string, unknown>) =>
    bindModels(db.conn).ConfigVersion.find(filter).sort({ key: 1 }).lean();
  return { db, svc, bot, s, versions };
}

/** After the snapshot: MAX_BATCH_SIZE 300, LOG_LEVEL debug, another webhook, no staging override, a guild override. */
async function drift(svc: ConfigService) {
  await svc.set('MAX_BATCH_SIZE', '300', someone);
  await svc.set('LOG_LEVEL', 'debug', someone);
  await svc.set('EXPORT_WEBHOOK_URL', 'https://hooks.example.com/b', someone);
  await svc.reset('MAX_BATCH_SIZE', someone, undefined, {}, staging);
  await svc.set('MAX_BATCH_SIZE', '70', someone, undefined, {}, { scope: 'guild:900000000000000001' });
}

describe('/config snapshot restore', () => {
  it('previews every change, then Confirm writes each as a version with action restore', async () => {
    const { svc, s, versions } = await restoreBot('restore_ok');
    await drift(svc);
    const [, preview] = await s.run('/config snapshot restore name:base reason:"bad deploy"');
    const embed = preview?.embeds[0];
    expect(embed?.title).toBe('Restore snapshot base?');
    expect(displayed(embed?.description).split('\n').slice(2)).toEqual([
      '`EXPORT_WEBHOOK_URL`: `••••••` → `••••••`',
      '`LOG_LEVEL`: `debug` → `info`',
      '`MAX_BATCH_SIZE`: `300` → `200`',
      '`MAX_BATCH_SIZE · env:staging`: `(no override)` → `50`',
    ]);
    expect(embed?.fields?.map((f) => [f.name, displayed(f.value)])).toEqual([
      ['Unchanged', `${registry.size + 1 - 4} already at the snapshot's value`],
      [
        'Not in the snapshot, left as they are (1)',
        '`MAX_BATCH_SIZE · guild:900000000000000001`\nRemove one with /config reset and its scope.',
      ],
      [
        'Impact',
        'Applies at once on Confirm (no key needs approvals).\nWay back: `/config snapshot create` first, then restore it (or roll back each key).',
      ],
    ]);
    expect(buttonsOf({ components: preview?.components ?? [] }).map((b) => b.label)).toEqual([
      'Confirm',
      'Cancel',
    ]);
    expect(await versions({ action: 'restore' })).toEqual([]);

    const [, done] = await s.press('Confirm');
    expect(done?.embeds[0]?.title).toBe('Restored snapshot base');
    // Unchanged as the preview counted them.
    expect(displayed(done?.embeds[0]?.description)).toMatch(
      new RegExp(`^4 restored · ${registry.size + 1 - 4} unchanged · 0 refused`),
    );
    expect(done?.components).toEqual([]);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(200);
    expect(svc.get('LOG_LEVEL')).toBe('info');
    expect(svc.get('EXPORT_WEBHOOK_URL')).toBe('https://hooks.example.com/a');
    expect(svc.get('MAX_BATCH_SIZE', { environment: 'staging' })).toBe(50);
    const written = await versions({ action: 'restore', key: { $ne: 'EXPORT_WEBHOOK_URL' } });
    expect(written.map((v) => [v.key, v.value, v.reason])).toEqual([
      ['LOG_LEVEL', 'info', 'Restored from snapshot base: bad deploy'],
      ['MAX_BATCH_SIZE', 200, 'Restored from snapshot base: bad deploy'],
      ['MAX_BATCH_SIZE|env:staging', 50, 'Restored from snapshot base: bad deploy'],
    ]);
    const [summary] = await bindModels(svc.conn).ConfigAudit.find({ action: 'snapshot-restore' }).lean();
    expect(summary).toMatchObject({
      key: 'snapshot:base',
      status: 'success',
      newValue: { restored: 4, unchanged: registry.size + 1 - 4, refused: 0 },
    });
  });

  it('refuses, on Confirm, a key someone changed since the preview and applies the others', async () => {
    const { svc, s } = await restoreBot('restore_moved');
    await drift(svc);
    await s.run('/config snapshot restore name:base');
    await svc.set('LOG_LEVEL', 'warn', someone);
    const [, done] = await s.press('Confirm');
    const text = displayed(done?.embeds[0]?.description);
    expect(text).toMatch(new RegExp(`^3 restored · ${registry.size + 1 - 4} unchanged · 1 refused`));
    expect(text).toMatch(
      /✗ `LOG_LEVEL`: LOG_LEVEL changed since this preview \(v2 → v3\); nothing was changed/,
    );
    expect(svc.get('LOG_LEVEL')).toBe('warn');
    expect(svc.get('MAX_BATCH_SIZE')).toBe(200);
  });

  it('completes an interrupted restore without writing anything twice', async () => {
    const { svc, s, versions } = await restoreBot('restore_again');
    await drift(svc);
    await s.run('/config snapshot restore name:base');
    // The first write of the restore happened, then the process stopped before the rest.
    await svc.put('restore', 'LOG_LEVEL', 'info', actor(), 'Restored from snapshot base', {}, {});
    const [, done] = await s.press('Confirm');
    // The value written before the interruption counts as unchanged, with those the preview counted.
    expect(displayed(done?.embeds[0]?.description)).toMatch(
      new RegExp(`^3 restored · ${registry.size + 1 - 4 + 1} unchanged · 0 refused`),
    );

    const [, again] = await s.run('/config snapshot restore name:base');
    expect(again?.embeds[0]?.title).toBe('Nothing to restore');
    expect(again?.components).toEqual([]);
    const written = await versions({ action: 'restore' });
    expect(written.map((v) => v.key)).toEqual([
      'EXPORT_WEBHOOK_URL',
      'LOG_LEVEL',
      'MAX_BATCH_SIZE',
      'MAX_BATCH_SIZE|env:staging',
    ]);
  });

  it('applies the global values as a template to another scope, skipping keys that do not allow it', async () => {
    const { svc, s, versions } = await restoreBot('restore_template');
    await svc.set('MAX_BATCH_SIZE', '999', someone);
    const [, preview] = await s.run('/config snapshot restore name:base to:env:staging');
    const embed = preview?.embeds[0];
    expect(embed?.title).toBe('Apply snapshot base to env:staging?');
    const lines = displayed(embed?.description).split('\n').slice(2);
    expect(lines).toContain('`MAX_BATCH_SIZE · env:staging`: `50` → `200`');
    expect(lines).toContain('`LOG_LEVEL · env:staging`: `(no override)` → `info`');
    expect(lines).toHaveLength(registry.size - 1);
    expect(embed?.fields?.map((f) => [f.name, displayed(f.value)])).toEqual([
      ['Unchanged', "0 already at the snapshot's value"],
      [
        'Skipped (1)',
        '`EXPORT_WEBHOOK_URL · env:staging`: EXPORT_WEBHOOK_URL cannot be set per environment: it allows global.',
      ],
      [
        'Impact',
        'Applies at once on Confirm (no key needs approvals).\nWay back: `/config snapshot create` first, then restore it (or roll back each key).',
      ],
    ]);
    const [, done] = await s.press('Confirm');
    expect(done?.embeds[0]?.title).toBe('Applied snapshot base to env:staging');
    expect(svc.get('MAX_BATCH_SIZE', { environment: 'staging' })).toBe(200);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(999);
    const written = await versions({ action: 'restore' });
    expect(written.every((v) => v.key.endsWith('|env:staging'))).toBe(true);
    expect(written).toHaveLength(registry.size - 1);
  });

  it('refuses an unknown target scope and another admin pressing Confirm, changing nothing', async () => {
    const { svc, bot, s, versions } = await restoreBot('restore_refusals');
    const [, bad] = await s.run('/config snapshot restore name:base to:env:stagin');
    expect(displayed(bad?.embeds[0]?.description)).toMatch(
      /"stagin" is not a declared environment.*env:staging\?/,
    );
    await drift(svc);
    await s.run('/config snapshot restore name:base');
    const prompt = s.current();
    if (!prompt) throw new Error('no prompt');
    const [refusal] = await bot.session(as.otherAdmin()).pressOn(prompt, 'Confirm');
    expect(displayed(refusal?.embeds[0]?.description)).toBe(
      'Only the admin who asked for this restore can confirm or cancel it.',
    );
    const [cancelled] = await s.press('Cancel');
    expect(cancelled?.embeds[0]?.title).toBe('Cancelled: restore of snapshot base');
    expect(await versions({ action: 'restore' })).toEqual([]);
  });
});
