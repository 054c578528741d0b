import { describe, expect, it } from 'vitest';
import { ChangeFeed } from '../../src/changes/feed.js';
import { bindModels } from '../../src/storage/config-models.js';
import { FlagStore } from '../../src/flags/flags.js';
import { actor, openService } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';

const alice = actor();
const checkout = {
  name: 'new-checkout',
  description: 'The new checkout page',
  type: 'release' as const,
  owner: 'payments',
};

async function flagStore(svc: Awaited<ReturnType<typeof freshService>>['svc']): Promise<FlagStore> {
  const flags = new FlagStore(svc);
  await flags.load();
  return flags;
}

describe('flag storage', () => {
  it('creates a flag as version 1 and each change as the next version, with an audit row and a log entry each', async () => {
    const { db, svc } = await freshService('flags_versions');
    const flags = await flagStore(svc);
    const created = await flags.create(checkout, alice, 'launch prep');
    expect(created).toMatchObject({ version: 1, oldVersion: 0, action: 'create', changes: ['created'] });
    expect(created.flag).toMatchObject({ enabled: false, rollout: 100, stickiness: 'userId' });
    const on = await flags.update('new-checkout', (f) => ({ ...f, enabled: true, rollout: 10 }), alice);
    expect(on).toMatchObject({ version: 2, oldVersion: 1, changes: ['on: off → on', 'rollout: 100% → 10%'] });
    expect(flags.set.isEnabled('new-checkout', { userId: 'u1', environment: 'production' })).toBeTypeOf(
      'boolean',
    );
    const m = bindModels(db.conn);
    const versions = await m.ConfigVersion.find({ key: 'flag:new-checkout' }).sort({ version: 1 }).lean();
    expect(versions.map((v) => [v.version, v.action])).toEqual([
      [1, 'create'],
      [2, 'set'],
    ]);
    const audit = await m.ConfigAudit.find({ key: 'flag:new-checkout', status: 'success' }).lean();
    expect(audit.map((a) => a.version).sort()).toEqual([1, 2]);
    const log = await m.ConfigChange.find({ key: 'flag:new-checkout' }).sort({ _id: 1 }).lean();
    expect(log.map((e) => e.version)).toEqual([1, 2]);
    expect(on.seq).toBe(log.at(-1)?._id);
  });

  it('refuses an invalid change with every problem named, writes nothing and audits the attempt', async () => {
    const { db, svc } = await freshService('flags_invalid');
    const flags = await flagStore(svc);
    await flags.create(checkout, alice);
    await expect(
      flags.update('new-checkout', (f) => ({ ...f, rollout: 120, stickiness: '9bad' }), alice),
    ).rejects.toMatchObject({
      code: 'INVALID_VALUE',
      message: expect.stringMatching(/rollout: must be from 0 to 100[\s\S]*stickiness/),
    });
    expect(flags.get('new-checkout')?.version).toBe(1);
    const m = bindModels(db.conn);
    expect(await m.ConfigVersion.countDocuments({ key: 'flag:new-checkout' })).toBe(1);
    expect(await m.ConfigAudit.countDocuments({ key: 'flag:new-checkout', status: 'failed' })).toBe(1);
  });

  it('refuses a second flag of the same name, a bad name, an unknown flag with a suggestion, and a no-op', async () => {
    const { svc } = await freshService('flags_refusals');
    const flags = await flagStore(svc);
    await flags.create(checkout, alice);
    await expect(flags.create(checkout, alice)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(flags.create({ ...checkout, name: 'New_Checkout' }, alice)).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
    await expect(flags.update('new-chekout', (f) => f, alice)).rejects.toMatchObject({
      code: 'UNKNOWN_KEY',
      message: expect.stringContaining('Did you mean new-checkout?'),
    });
    await expect(flags.update('new-checkout', (f) => f, alice)).rejects.toMatchObject({ code: 'UNCHANGED' });
  });

  it('rolls back to an earlier version as a new version, and archives as a version', async () => {
    const { svc } = await freshService('flags_rollback');
    const flags = await flagStore(svc);
    await flags.create(checkout, alice);
    await flags.update('new-checkout', (f) => ({ ...f, enabled: true, rollout: 25 }), alice);
    await flags.update('new-checkout', (f) => ({ ...f, rollout: 50 }), alice);
    const preview = await flags.previewRollback('new-checkout', 2);
    expect(preview.changes).toEqual(['rollout: 50% → 25%']);
    const back = await flags.rollback('new-checkout', 2, alice, undefined, {}, { expectedVersion: 3 });
    expect(back).toMatchObject({ version: 4, restoredFrom: 2, action: 'rollback' });
    expect(flags.get('new-checkout')?.flag.rollout).toBe(25);
    await expect(flags.rollback('new-checkout', 9, alice)).rejects.toMatchObject({
      code: 'VERSION_NOT_FOUND',
    });
    const archived = await flags.archive('new-checkout', alice);
    expect(archived.flag).toMatchObject({ archived: true, enabled: false });
    expect(flags.list().map((f) => f.flag.name)).toEqual([]);
    await expect(flags.update('new-checkout', (f) => ({ ...f, rollout: 1 }), alice)).rejects.toMatchObject({
      code: 'INVALID_VALUE',
      message: expect.stringContaining('archived'),
    });
    const history = await flags.history('new-checkout');
    expect(history.map((h) => [h.version, h.action])).toEqual([
      [5, 'archive'],
      [4, 'rollback'],
      [3, 'set'],
      [2, 'set'],
      [1, 'create'],
    ]);
    expect(history[0]?.changes).toEqual(['on: on → off', 'archived: no → yes']);
  });

  it('loses no edit when several processes change one flag at once: each edit applies to fresh state', async () => {
    const { db, svc } = await freshService('flags_concurrent');
    const flags = await flagStore(svc);
    await flags.create(checkout, alice);
    const others = [await openService(db), await openService(db)];
    try {
      const stores = [flags, ...(await Promise.all(others.map((o) => flagStore(o))))];
      const ids = stores.flatMap((_, si) => Array.from({ length: 4 }, (_, i) => `1000000000000000${si}${i}`));
      await Promise.all(
        stores.map(async (store, si) => {
          for (let i = 0; i < 4; i++) {
            const id = `1000000000000000${si}${i}`;
            await store.update(
              'new-checkout',
              (f) => ({ ...f, include: { ...f.include, users: [...f.include.users, id] } }),
              alice,
            );
          }
        }),
      );
      const final = await svc.slots.current('flag:new-checkout');
      expect(final?.version).toBe(13);
      expect([...(final?.value as { include: { users: string[] } }).include.users].sort()).toEqual(
        ids.sort(),
      );
    } finally {
      for (const o of others) await o.close();
    }
  });

  it('refuses a confirmed rollback when the flag moved since its preview', async () => {
    const { svc } = await freshService('flags_moved');
    const flags = await flagStore(svc);
    await flags.create(checkout, alice);
    await flags.update('new-checkout', (f) => ({ ...f, rollout: 5 }), alice);
    await flags.update('new-checkout', (f) => ({ ...f, rollout: 6 }), alice);
    await expect(
      flags.rollback('new-checkout', 1, alice, undefined, {}, { expectedVersion: 2 }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('changed since this preview'),
    });
  });

  it('kills a flag once however many processes try, as the system, and only when on', async () => {
    const { db, svc } = await freshService('flags_kill');
    const flags = await flagStore(svc);
    await flags.create({ ...checkout, enabled: true }, alice);
    const other = await openService(db);
    const otherFlags = await flagStore(other);
    try {
      const [a, b] = await Promise.all([
        flags.kill('new-checkout', '12 errors'),
        otherFlags.kill('new-checkout', '12 errors'),
      ]);
      const kills = [a, b].filter(Boolean);
      expect(kills).toHaveLength(1);
      expect(kills[0]).toMatchObject({ action: 'kill', version: 2 });
      const m = bindModels(db.conn);
      const v2 = await m.ConfigVersion.findOne({ key: 'flag:new-checkout', version: 2 }).lean();
      expect(v2).toMatchObject({ actor: { id: 'system' }, reason: '12 errors', action: 'kill' });
      expect(await flags.kill('new-checkout', 'again')).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('reaches another process through the change feed, version by version', async () => {
    const { db, svc } = await freshService('flags_feed');
    const flags = await flagStore(svc);
    const other = await openService(db);
    const otherFlags = await flagStore(other);
    const feed = new ChangeFeed(other, { intervalMs: 50, followers: [otherFlags] });
    await feed.start();
    const seen: string[] = [];
    otherFlags.subscribe((c) => seen.push(`${c.name}@${c.version}:${c.action}`));
    try {
      await flags.create(checkout, alice);
      await flags.update('new-checkout', (f) => ({ ...f, enabled: true }), alice);
      await expect.poll(() => otherFlags.get('new-checkout')?.version, { timeout: 5000 }).toBe(2);
      expect(seen).toEqual(['new-checkout@1:create', 'new-checkout@2:set']);
      expect(otherFlags.get('new-checkout')?.flag.enabled).toBe(true);
      // The flag store may hold version 2 (caught up with version 1's entry) before the feed has
      // read version 2's entry: wait for the feed itself.
      await expect
        .poll(async () =>
          (await feed.since(0))?.changes.filter((c) => c.key === 'flag:new-checkout').map((c) => c.version),
        )
        .toEqual([1, 2]);
    } finally {
      feed.stop();
      await other.close();
    }
  });

  it('completes a flag write that stopped between its version and its current value', async () => {
    const { db, svc } = await freshService('flags_repair');
    const flags = await flagStore(svc);
    await flags.create(checkout, alice);
    const m = bindModels(db.conn);
    // A writer that died right after inserting version 2.
    await m.ConfigVersion.collection.insertOne({
      _id: 'flag:new-checkout@2',
      key: 'flag:new-checkout',
      version: 2,
      value: { ...flags.get('new-checkout')?.flag, rollout: 33 },
      action: 'set',
      actor: alice,
      createdAt: new Date(),
    } as never);
    const done = await flags.update('new-checkout', (f) => ({ ...f, owner: 'growth' }), alice);
    expect(done.version).toBe(3);
    expect(flags.get('new-checkout')?.flag).toMatchObject({ rollout: 33, owner: 'growth' });
    const log = await m.ConfigChange.find({ key: 'flag:new-checkout' }).sort({ _id: 1 }).lean();
    expect(log.map((e) => e.version)).toEqual([1, 2, 3]);
  });
});

describe('flag changes through approvals', () => {
  it('turns a change of a high-impact flag into a request, applied as versions that record it', async () => {
    const { db, svc } = await freshService('flags_approval', { approvals: { high: 1 } });
    const flags = await flagStore(svc);
    const bob = actor('222222222222222222', 'bob');
    const made = await flags.create({ ...checkout, impact: 'high' }, alice).then(
      () => undefined,
      (e: unknown) => e as { code: string; context: { request: string } },
    );
    expect(made?.code).toBe('APPROVAL_REQUIRED');
    expect(flags.get('new-checkout')).toBeUndefined();
    const id = String(made?.context.request);
    expect((await svc.requests.get(id)).changes[0]).toMatchObject({
      key: 'flag:new-checkout',
      baseVersion: 0,
      after: 'created',
    });
    await expect(svc.requests.approve(id, alice)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await svc.requests.approve(id, bob)).toMatchObject({ status: 'applied' });
    expect(flags.get('new-checkout')?.version).toBe(1);
    const v1 = await bindModels(db.conn)
      .ConfigVersion.findOne({ key: 'flag:new-checkout', version: 1 })
      .lean();
    expect(v1).toMatchObject({ action: 'create', request: id, approvers: [bob], actor: alice });
    // Lowering the impact is itself a change of a high-impact flag.
    await expect(flags.update('new-checkout', (f) => ({ ...f, impact: 'low' }), alice)).rejects.toMatchObject(
      {
        code: 'APPROVAL_REQUIRED',
      },
    );
  });

  it('switches a high-impact flag off at once when its errors pass the threshold', async () => {
    const { db, svc } = await freshService('flags_approval_kill', { approvals: { high: 1 } });
    const plain = await openService(db);
    const setup = await flagStore(plain);
    await setup.create(
      { ...checkout, enabled: true, impact: 'high', errorThreshold: { errors: 2, windowMs: 60_000 } },
      alice,
    );
    await plain.close();
    const flags = await flagStore(svc);
    expect(await flags.errors.report('new-checkout', 2)).toMatchObject({ killed: true, version: 2 });
  });
});
