import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { ConfigService, MASK } from '../../src/config/service.js';
import { actor, openTestDb } from '../helpers/db.js';
import { as, displayed, startBot } from '../helpers/discord.js';

const HOOK = 'https://hooks.example.com/services/SNAPSHOTSECRET42';

/** A bot over a service of the test's own, with an encryption key and a staging environment. */
async function snapshotBot(label: string) {
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
  const snapshots = () => db.conn.collection('config_snapshots');
  const audit = (filter: Record<string, unknown>) => bindModels(db.conn).ConfigAudit.find(filter).lean();
  return { db, svc, bot, snapshots, audit };
}

describe('/config snapshot create, list, view', () => {
  it('records every value in every scope with its version, and lists and shows it', async () => {
    const { svc, bot, snapshots, audit } = await snapshotBot('snap_create');
    await svc.set('MAX_BATCH_SIZE', '200', actor());
    await svc.set('MAX_BATCH_SIZE', '50', actor(), undefined, {}, { scope: 'env:staging' });
    await svc.set('MAX_BATCH_SIZE', '70', actor(), undefined, {}, { scope: 'guild:900000000000000001' });
    const s = bot.session();

    const [, created] = await s.run('/config snapshot create name:before-migration description:"Before v2"');
    expect(created?.embeds[0]?.title).toBe('Snapshot before-migration created');

    const doc = await snapshots().findOne({ _id: 'before-migration' as never });
    const batch = (doc?.values as { key: string; scope: string; version: number; value: unknown }[]).filter(
      (v) => v.key === 'MAX_BATCH_SIZE',
    );
    expect(batch).toEqual([
      { key: 'MAX_BATCH_SIZE', scope: 'global', version: 2, value: 200 },
      { key: 'MAX_BATCH_SIZE', scope: 'env:staging', version: 1, value: 50 },
      { key: 'MAX_BATCH_SIZE', scope: 'guild:900000000000000001', version: 1, value: 70 },
    ]);
    expect(doc?.values).toHaveLength(registry.size + 2);
    expect(doc).toMatchObject({ description: 'Before v2', createdBy: { id: as.admin().user.id } });
    expect(await audit({ action: 'snapshot-create', status: 'success' })).toMatchObject([
      { key: 'snapshot:before-migration', newValue: { values: registry.size + 2 } },
    ]);

    expect((await s.complete('/config snapshot view name:before')).map((c) => c.value)).toEqual([
      'before-migration',
    ]);
    expect(
      (await s.complete('/config snapshot diff name:before-migration against:n')).map((c) => c.value),
    ).toEqual(['now']);
    const [, listed] = await s.run('/config snapshot list');
    expect(displayed(listed?.embeds[0]?.description)).toMatch(
      new RegExp(`before-migration\\*\\* · ${registry.size + 2} values · .* by .*admin[\\s\\S]*Before v2`),
    );

    const [, viewed] = await s.run('/config snapshot view name:before-migration');
    const text = displayed(viewed?.embeds[0]?.description);
    expect(text).toContain('`MAX_BATCH_SIZE · env:staging` v1: `50`');
    expect(text).toContain('`MAX_BATCH_SIZE` v2: `200`');
    expect(text).toContain('`MAX_BATCH_SIZE · guild:900000000000000001` v1: `70`');
  });

  it('keeps a sensitive value encrypted in the stored snapshot and masked in view', async () => {
    const { svc, bot, snapshots } = await snapshotBot('snap_secret');
    await svc.set('EXPORT_WEBHOOK_URL', HOOK, actor());
    const s = bot.session();
    await s.run('/config snapshot create name:with-secret');

    const raw = await snapshots().findOne({ _id: 'with-secret' as never });
    expect(JSON.stringify(raw)).not.toContain('SNAPSHOTSECRET42');
    const stored = (raw?.values as { key: string; value: unknown }[]).find(
      (v) => v.key === 'EXPORT_WEBHOOK_URL',
    );
    expect(stored?.value).toMatchObject({ enc: 'aes-256-gcm:v2' });

    const replies = await s.run('/config snapshot view name:with-secret');
    expect(JSON.stringify(replies)).not.toContain('SNAPSHOTSECRET42');
    expect(displayed(replies.at(-1)?.embeds[0]?.description)).toContain(
      `\`EXPORT_WEBHOOK_URL\` v2: \`${MASK}\``,
    );
  });

  it('refuses a second snapshot with the same name, and a malformed name, changing nothing', async () => {
    const { bot, snapshots, audit } = await snapshotBot('snap_dup');
    const s = bot.session();
    await s.run('/config snapshot create name:once description:first');
    const [, again] = await s.run('/config snapshot create name:once description:second');
    expect(displayed(again?.embeds[0]?.description)).toMatch(
      /A snapshot named once exists already \(taken by admin on .* UTC\): snapshots never change/,
    );
    expect(await snapshots().findOne({ _id: 'once' as never })).toMatchObject({ description: 'first' });

    const [, now] = await s.run('/config snapshot create name:now');
    expect(displayed(now?.embeds[0]?.description)).toMatch(/^now cannot name a snapshot/);
    const [, bad] = await s.run('/config snapshot create name:Bad_Name');
    expect(displayed(bad?.embeds[0]?.description)).toMatch(
      /"Bad_Name" is not a snapshot name: use 2-64 lower-case/,
    );
    expect(await snapshots().countDocuments()).toBe(1);
    expect(await audit({ action: 'snapshot-create', status: 'failed' })).toHaveLength(3);
  });

  it('refuses a non-admin creating or restoring, and audits the refusals', async () => {
    const { bot, snapshots, audit } = await snapshotBot('snap_member');
    await bot.session().run('/config snapshot create name:base');
    const member = bot.session(as.member());
    const [created] = await member.run('/config snapshot create name:mine');
    expect(created?.embeds[0]?.title).toBe('Not allowed');
    const [restored] = await member.run('/config snapshot restore name:base');
    expect(restored?.embeds[0]?.title).toBe('Not allowed');
    expect(await snapshots().countDocuments()).toBe(1);
    const denied = await audit({ status: 'denied', 'actor.id': as.member().user.id });
    expect(denied.map((r) => [r.action, r.key])).toEqual([
      ['snapshot-create', 'snapshot:mine'],
      ['snapshot-restore', 'snapshot:base'],
    ]);
  });

  it('says which snapshot does not exist', async () => {
    const { bot } = await snapshotBot('snap_missing');
    const [, reply] = await bot.session().run('/config snapshot view name:nope');
    expect(displayed(reply?.embeds[0]?.description)).toBe(
      'There is no snapshot named nope. /config snapshot list shows them.',
    );
  });
});

describe('/config snapshot diff', () => {
  it('shows per key and scope what changed since the snapshot, and what is only on one side', async () => {
    const { svc, bot } = await snapshotBot('snap_diff');
    await svc.set('MAX_BATCH_SIZE', '50', actor(), undefined, {}, { scope: 'env:staging' });
    await svc.set('EXPORT_WEBHOOK_URL', HOOK, actor());
    const s = bot.session();
    await s.run('/config snapshot create name:before');
    await svc.set('MAX_BATCH_SIZE', '300', actor());
    await svc.set('EXPORT_WEBHOOK_URL', `${HOOK}X`, actor());
    await svc.reset('MAX_BATCH_SIZE', actor(), undefined, {}, { scope: 'env:staging' });
    await svc.set('LOG_LEVEL', 'debug', actor(), undefined, {}, { scope: 'env:production' });

    const replies = await s.run('/config snapshot diff name:before');
    expect(JSON.stringify(replies)).not.toContain('SNAPSHOTSECRET42');
    const diff = replies.at(-1)?.embeds[0];
    expect(diff?.title).toBe('before → now');
    expect(displayed(diff?.description).split('\n')).toEqual([
      `\`EXPORT_WEBHOOK_URL\`: \`${MASK}\` → \`${MASK}\``,
      '`LOG_LEVEL · env:production`: only in now (`debug`)',
      '`MAX_BATCH_SIZE`: `100` → `300`',
      '`MAX_BATCH_SIZE · env:staging`: only in before (`50`)',
    ]);
    expect(diff?.footer?.text).toBe(`4 different · ${registry.size - 2} the same`);

    await s.run('/config snapshot create name:after');
    const [, between] = await s.run('/config snapshot diff name:after against:before');
    expect(between?.embeds[0]?.title).toBe('before → after');
    expect(between?.embeds[0]?.footer?.text).toMatch(/^4 different/);
    const [, same] = await s.run('/config snapshot diff name:after');
    expect(displayed(same?.embeds[0]?.description)).toBe(
      'No differences: every value in every scope is the same.',
    );
  });
});
