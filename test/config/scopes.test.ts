import { describe, expect, it } from 'vitest';
import type { ConfigChange } from '../../src/config/events.js';
import { bindModels } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { ConfigService } from '../../src/config/service.js';
import { actor, openTestDb } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';

const admin = actor();
const GUILD = '900000000000000777';
const OTHER = '900000000000000778';

async function twoEnvironments(label: string) {
  const { db, svc } = await freshService(label);
  const staging = new ConfigService({
    registry,
    conn: db.conn,
    environments: ['production', 'staging'],
    environment: 'staging',
  });
  await staging.init();
  return { db, svc, staging };
}

describe('the scope chain', () => {
  it('resolves guild → environment → global → default, each layer with its own versions', async () => {
    const { svc, staging } = await twoEnvironments('scopes_resolve');
    try {
      expect(svc.get('MAX_BATCH_SIZE')).toBe(100); // the default, seeded as global v1
      await svc.set('MAX_BATCH_SIZE', '200', admin);
      const env = await svc.set('MAX_BATCH_SIZE', '300', admin, undefined, {}, { scope: 'env:production' });
      expect(env).toMatchObject({ scope: 'env:production', version: 1, oldValue: undefined, value: 300 });
      const guild = await svc.set('MAX_BATCH_SIZE', '400', admin, undefined, {}, { scope: `guild:${GUILD}` });
      expect(guild).toMatchObject({ scope: `guild:${GUILD}`, version: 1 });

      expect(svc.get('MAX_BATCH_SIZE')).toBe(300);
      expect(svc.get('MAX_BATCH_SIZE', { guildId: GUILD })).toBe(400);
      expect(svc.get('MAX_BATCH_SIZE', { guildId: OTHER })).toBe(300);
      expect(svc.cachedVersion('MAX_BATCH_SIZE')).toBe(2);
      // A process of another environment skips the production layer.
      await staging.refresh();
      expect(staging.get('MAX_BATCH_SIZE')).toBe(200);
      expect(staging.get('MAX_BATCH_SIZE', { guildId: GUILD })).toBe(400);
      // Any process can ask what another environment has now.
      expect(staging.get('MAX_BATCH_SIZE', { environment: 'production' })).toBe(300);
      expect(svc.get('MAX_BATCH_SIZE', { environment: 'staging' })).toBe(200);

      const view = svc.describe('MAX_BATCH_SIZE', { guildId: GUILD });
      expect(view.display).toBe('400');
      expect(view.overrides).toBe(2);
      expect(view.layers?.map((l) => [l.scope, l.display, l.supplies])).toEqual([
        [`guild:${GUILD}`, '400', true],
        ['env:production', '300', false],
        ['global', '200', false],
        ['default', '100', false],
      ]);
      expect((await svc.history('MAX_BATCH_SIZE', { scope: 'env:production' })).map((v) => v.value)).toEqual([
        300,
      ]);
    } finally {
      await staging.close();
    }
  });

  it('refuses a scope the key does not allow, an undeclared environment and a malformed server id, writing nothing', async () => {
    const { svc } = await freshService('scopes_refuse');
    await expect(
      svc.set('LOG_LEVEL', 'debug', admin, undefined, {}, { scope: `guild:${GUILD}` }),
    ).rejects.toMatchObject({
      code: 'INVALID_VALUE',
      message: 'LOG_LEVEL cannot be set per server: it allows global, env:<name>.',
    });
    await expect(
      svc.set('EXPORT_WEBHOOK_URL', 'https://x.example/h', admin, undefined, {}, { scope: 'env:production' }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/cannot be set per environment: it allows global\./),
    });
    await expect(
      svc.set('MAX_BATCH_SIZE', '5', admin, undefined, {}, { scope: 'env:prodution' }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(
        /"prodution" is not a declared environment \(ENVIRONMENTS: production\)\. Did you mean env:production\?/,
      ),
    });
    await expect(
      svc.set('MAX_BATCH_SIZE', '5', admin, undefined, {}, { scope: 'env:prod' }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/"prod" is not a declared environment .* Did you mean env:production\?/),
    });
    await expect(
      svc.set('MAX_BATCH_SIZE', '5', admin, undefined, {}, { scope: 'guild:12' }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/not a Discord server id/),
    });
    await expect(
      svc.set('MAX_BATCH_SIZE', '5', admin, undefined, {}, { scope: 'team:a' }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/is not a scope/),
    });
    expect(svc.overrideScopes('MAX_BATCH_SIZE')).toEqual([]);
    const failed = await svc.auditLog({ status: 'failed' });
    expect(failed).toHaveLength(6);
  });

  it('a reset at an override scope unsets it (history stays complete) and a rollback brings it back', async () => {
    const { svc } = await freshService('scopes_unset');
    const at = { scope: 'env:production' };
    const heard: ConfigChange[] = [];
    svc.subscribe(['AI_CONFIDENCE_THRESHOLD'], (c) => void heard.push(c));
    await svc.set('AI_CONFIDENCE_THRESHOLD', '0.9', admin, undefined, {}, at);
    expect(svc.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.9);
    const preview = await svc.previewReset('AI_CONFIDENCE_THRESHOLD', admin, undefined, {}, at);
    expect(preview).toMatchObject({ action: 'unset', current: '0.9', next: '0.85', currentVersion: 1 });
    const unset = await svc.reset(
      'AI_CONFIDENCE_THRESHOLD',
      admin,
      'back to global',
      {},
      { ...at, expectedVersion: 1 },
    );
    expect(unset).toMatchObject({ action: 'unset', version: 2, oldValue: 0.9, value: 0.85 });
    expect(svc.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.85);
    expect(svc.overrideScopes('AI_CONFIDENCE_THRESHOLD')).toEqual([]);
    await expect(svc.reset('AI_CONFIDENCE_THRESHOLD', admin, undefined, {}, at)).rejects.toMatchObject({
      code: 'UNCHANGED',
      message: 'AI_CONFIDENCE_THRESHOLD has no override at env:production. Nothing was changed.',
    });
    const back = await svc.rollback('AI_CONFIDENCE_THRESHOLD', 1, admin, undefined, {}, at);
    expect(back).toMatchObject({ version: 3, value: 0.9, restoredFrom: 1 });
    expect(svc.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.9);
    await expect(svc.rollback('AI_CONFIDENCE_THRESHOLD', 2, admin, undefined, {}, at)).rejects.toMatchObject({
      message: expect.stringMatching(
        /Version 2 of AI_CONFIDENCE_THRESHOLD at env:production removed the override/,
      ),
    });
    const history = await svc.history('AI_CONFIDENCE_THRESHOLD', { scope: 'env:production' });
    expect(history.map((v) => [v.version, v.action])).toEqual([
      [3, 'rollback'],
      [2, 'unset'],
      [1, 'set'],
    ]);
    expect(heard.map((c) => [c.scope, c.action, c.newValue])).toEqual([
      ['env:production', 'set', 0.9],
      ['env:production', 'unset', null],
      ['env:production', 'rollback', 0.9],
    ]);
    // Audit rows name the key and the scope.
    const rows = await bindModels(svc.conn)
      .ConfigAudit.find({ key: 'AI_CONFIDENCE_THRESHOLD', status: 'success' })
      .lean();
    expect(
      rows
        .filter((r) => r.scope === 'env:production')
        .map((r) => r.action)
        .sort(),
    ).toEqual(['rollback', 'set', 'unset']);
  });

  it('a rule is checked in the scope written: an environment cannot push its export past midnight', async () => {
    const { svc } = await freshService('scopes_rules');
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '120', admin); // global: 18:00 + 2 h
    await expect(
      svc.set('DAILY_EXPORT_TIME', '22:00', admin, undefined, {}, { scope: 'env:production' }),
    ).rejects.toMatchObject({
      code: 'RULE_VIOLATION',
      message: expect.stringMatching(
        /^DAILY_EXPORT_TIME 22:00 with IMMEDIATE_EXPORT_BUFFER 120 \(at env:production\)/,
      ),
    });
    // And a global write that an environment's override would break there is refused too.
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '30', admin);
    await svc.set('DAILY_EXPORT_TIME', '22:00', admin, undefined, {}, { scope: 'env:production' });
    await expect(svc.set('IMMEDIATE_EXPORT_BUFFER', '120', admin)).rejects.toMatchObject({
      message: expect.stringMatching(/\(at env:production\)/),
    });
  });

  it('data written before scopes existed is the global layer, with no migration step', async () => {
    const db = await openTestDb('scopes_upgrade');
    try {
      // Exactly what the previous release wrote: no scope, no unset, ids KEY and KEY@version.
      const at = new Date('2026-10-01T10:00:00Z');
      const who = { id: 'old', tag: 'old' };
      await db.conn.collection('config_versions').insertMany([
        {
          _id: 'MAX_BATCH_SIZE@1',
          key: 'MAX_BATCH_SIZE',
          version: 1,
          value: 100,
          action: 'init',
          actor: who,
          createdAt: at,
        },
        {
          _id: 'MAX_BATCH_SIZE@2',
          key: 'MAX_BATCH_SIZE',
          version: 2,
          value: 250,
          action: 'set',
          actor: who,
          createdAt: at,
        },
      ] as never[]);
      await db.conn.collection('system_configs').insertOne({
        _id: 'MAX_BATCH_SIZE',
        key: 'MAX_BATCH_SIZE',
        value: 250,
        version: 2,
        updatedBy: who,
        updatedAt: at,
      } as never);
      const svc = new ConfigService({ registry, conn: db.conn });
      await svc.init();
      try {
        expect(svc.get('MAX_BATCH_SIZE')).toBe(250);
        expect(svc.cachedVersion('MAX_BATCH_SIZE')).toBe(2);
        await svc.set('MAX_BATCH_SIZE', '260', admin);
        await svc.set('MAX_BATCH_SIZE', '300', admin, undefined, {}, { scope: 'env:production' });
        expect(svc.get('MAX_BATCH_SIZE')).toBe(300);
        expect((await svc.history('MAX_BATCH_SIZE')).map((v) => v.version)).toEqual([3, 2, 1]);
        await svc.reset('MAX_BATCH_SIZE', admin, undefined, {}, { scope: 'env:production' });
        expect(svc.get('MAX_BATCH_SIZE')).toBe(260);
      } finally {
        await svc.close();
      }
    } finally {
      await db.drop();
    }
  });

  it('another process hears an override created elsewhere, with its scope, when it catches up', async () => {
    const { db, svc } = await freshService('scopes_sync');
    const other = new ConfigService({ registry, conn: db.conn });
    await other.init();
    try {
      const heard: ConfigChange[] = [];
      other.subscribe(['MAX_BATCH_SIZE'], (c) => void heard.push(c));
      await svc.set('MAX_BATCH_SIZE', '333', admin, undefined, {}, { scope: 'env:production' });
      await svc.set('MAX_BATCH_SIZE', '334', admin, undefined, {}, { scope: 'env:production' });
      await other.refresh({ repair: false }); // what ConfigSync does when the change marker moves
      expect(other.get('MAX_BATCH_SIZE')).toBe(334);
      expect(heard.map((c) => [c.scope, c.version, c.newValue])).toEqual([
        ['env:production', 1, 333],
        ['env:production', 2, 334],
      ]);
    } finally {
      await other.close();
    }
  });

  it('an override whose writer died between its version and its current value is completed by repair', async () => {
    const { db, svc } = await freshService('scopes_repair');
    // What a writer leaves when it is killed right after inserting the version of a new override.
    await db.conn.collection('config_versions').insertOne({
      _id: 'MAX_BATCH_SIZE|env:production@1',
      key: 'MAX_BATCH_SIZE|env:production',
      version: 1,
      value: 250,
      action: 'set',
      actor: { id: 'gone', tag: 'gone' },
      createdAt: new Date(),
    } as never);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
    await svc.refresh();
    expect(svc.get('MAX_BATCH_SIZE')).toBe(250);
    const current = await db.conn
      .collection('system_configs')
      .findOne({ _id: 'MAX_BATCH_SIZE|env:production' as never });
    expect(current).toMatchObject({ version: 1, value: 250 });
    const [row] = await svc.auditLog({ key: 'MAX_BATCH_SIZE', status: 'success', action: 'set' });
    expect(row).toMatchObject({
      scope: 'env:production',
      reason: 'recorded on recovery after an interrupted write',
    });
  });

  it('an override only a last-known-good copy knows is dropped, announced, once the database answers', async () => {
    const db = await openTestDb('scopes_copy');
    const svc = new ConfigService({ registry, conn: db.conn });
    try {
      const who = { id: 'old', tag: 'old' };
      await svc.startFromCopy(
        {
          writtenAt: new Date(),
          entries: new Map([
            ['MAX_BATCH_SIZE', { value: 200, version: 2, updatedBy: who, updatedAt: new Date() }],
            [
              'MAX_BATCH_SIZE|env:production',
              { value: 700, version: 3, updatedBy: who, updatedAt: new Date() },
            ],
          ]),
        },
        'test: no database yet',
      );
      expect(svc.get('MAX_BATCH_SIZE')).toBe(700);
      const heard: ConfigChange[] = [];
      svc.subscribe(['MAX_BATCH_SIZE'], (c) => void heard.push(c));
      await svc.attach(); // the database holds no override (and the seeded global default)
      expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
      expect(heard.map((c) => [c.scope, c.action])).toContainEqual(['env:production', 'unset']);
      // And a new override there starts at version 1, and is served.
      await svc.set('MAX_BATCH_SIZE', '300', admin, undefined, {}, { scope: 'env:production' });
      expect(svc.get('MAX_BATCH_SIZE')).toBe(300);
    } finally {
      await svc.close();
      await db.drop();
    }
  });
});
