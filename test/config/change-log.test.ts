import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { ChangeFeed } from '../../src/changes/feed.js';
import { actor, openService } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';
import { outcome } from '../helpers/outcome.js';

const alice = actor();

describe('the change log', () => {
  it('numbers every committed version without gaps, once, in each slot’s version order, under concurrent writers', async () => {
    const { db, svc } = await freshService('changelog_race');
    const others = [await openService(db), await openService(db)];
    const writers = [svc, ...others];
    const keys = ['MAX_BATCH_SIZE', 'IMMEDIATE_EXPORT_BUFFER'];
    await Promise.all(
      writers.flatMap((w, wi) =>
        keys.map(async (key) => {
          for (let i = 0; i < 6; i++) await outcome(w.set(key, String(10 + wi * 100 + i), alice));
        }),
      ),
    );
    for (const o of others) await o.close();
    const m = bindModels(db.conn);
    const log = await m.ConfigChange.find({}).sort({ _id: 1 }).lean();
    expect(log.map((e) => e._id)).toEqual(log.map((_, i) => i + 1));
    for (const key of keys) {
      const versions = await m.ConfigVersion.countDocuments({ key });
      expect(log.filter((e) => e.key === key).map((e) => e.version)).toEqual(
        Array.from({ length: versions }, (_, i) => i + 1),
      );
    }
    expect(await svc.changes.head()).toBe(log.length);
  });

  it('logs a version whose writer stopped before logging it, before the next version of that key', async () => {
    const { db, svc } = await freshService('changelog_cut');
    const m = bindModels(db.conn);
    // A writer that died after its version and before logging it or moving the current value.
    await m.ConfigVersion.collection.insertOne({
      _id: 'MAX_BATCH_SIZE@2',
      key: 'MAX_BATCH_SIZE',
      version: 2,
      value: 222,
      action: 'set',
      actor: alice,
      createdAt: new Date(),
    } as never);
    await m.SystemConfig.collection.updateOne({ _id: 'MAX_BATCH_SIZE' as never }, { $set: { pending: 2 } });
    const other = await openService(db);
    const done = await other.set('MAX_BATCH_SIZE', '333', alice);
    await other.close();
    expect(done.version).toBe(3);
    const log = await m.ConfigChange.find({ key: 'MAX_BATCH_SIZE' }).sort({ _id: 1 }).lean();
    expect(log.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(done.seq).toBe(log.at(-1)?._id);
    expect(svc.get('MAX_BATCH_SIZE')).toBeDefined();
  });

  it('logs the current version of data written before the log existed, before the next one', async () => {
    const { db, svc } = await freshService('changelog_old');
    await svc.set('MAX_BATCH_SIZE', '120', alice);
    const m = bindModels(db.conn);
    await m.ConfigChange.deleteMany({});
    await m.SystemConfig.collection.updateMany({}, { $unset: { logged: '' } });
    await db.conn.collection('config_meta').updateOne({ _id: 'changes' as never }, { $unset: { seq: '' } });
    const done = await svc.set('MAX_BATCH_SIZE', '130', alice);
    const log = await m.ConfigChange.find({}).sort({ _id: 1 }).lean();
    expect(log.map((e) => [e.key, e.version])).toEqual([
      ['MAX_BATCH_SIZE', 2],
      ['MAX_BATCH_SIZE', 3],
    ]);
    expect(log[1]?._id).toBe((log[0]?._id ?? 0) + 1);
    expect(done.seq).toBe(log[1]?._id);
  });
});

describe('the change feed', () => {
  it('applies changes made by another process in log order and announces its position', async () => {
    const { db, svc } = await freshService('feed_order');
    const feed = new ChangeFeed(svc, { intervalMs: 50 });
    await feed.start();
    const start = feed.position;
    const other = await openService(db);
    const positions: number[] = [];
    feed.onAdvance((p) => positions.push(p));
    const a = await other.set('MAX_BATCH_SIZE', '140', alice);
    const b = await other.set('AI_CONFIDENCE_THRESHOLD', '0.7', alice);
    await other.close();
    await expect.poll(() => feed.position, { timeout: 5000 }).toBe(b.seq);
    // When the feed says N, this process serves the value of N.
    expect(svc.get('MAX_BATCH_SIZE')).toBe(140);
    expect(svc.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.7);
    const since = await feed.since(start);
    expect(since?.changes.map((c) => [c.seq, c.key, c.version, c.actor.id])).toEqual([
      [a.seq, 'MAX_BATCH_SIZE', 2, alice.id],
      [b.seq, 'AI_CONFIDENCE_THRESHOLD', 2, alice.id],
    ]);
    expect(positions.at(-1)).toBe(b.seq);
    feed.stop();
  });

  it('covers entries of keys this release does not know, reading the log (not only memory)', async () => {
    const { svc } = await freshService('feed_foreign');
    const feed = new ChangeFeed(svc, { intervalMs: 50, recent: 1 });
    await feed.start();
    const start = feed.position;
    for (const v of [1, 2]) {
      await svc.conn.collection('config_versions').insertOne({
        _id: `FUTURE_KEY@${v}`,
        key: 'FUTURE_KEY',
        version: v,
        value: v,
        action: 'set',
        actor: alice,
        createdAt: new Date(),
      } as never);
      await svc.changes.append('FUTURE_KEY', v);
    }
    const mine = await svc.set('MAX_BATCH_SIZE', '170', alice);
    await expect.poll(() => feed.position, { timeout: 5000 }).toBe(mine.seq);
    // Only the foreign entries after `start`: nothing to list, but the page covers them.
    expect(await feed.since(start, 2)).toEqual({ changes: [], through: start + 2 });
    expect((await feed.since(start))?.changes.map((c) => c.key)).toEqual(['MAX_BATCH_SIZE']);
    feed.stop();
  });

  it('says a position is too old once the log no longer holds it', async () => {
    const { db, svc } = await freshService('feed_trim');
    const feed = new ChangeFeed(svc, { intervalMs: 50, recent: 1 });
    await feed.start();
    await svc.set('MAX_BATCH_SIZE', '150', alice);
    const last = await svc.set('MAX_BATCH_SIZE', '160', alice);
    await expect.poll(() => feed.position, { timeout: 5000 }).toBe(last.seq);
    await bindModels(db.conn).ConfigChange.deleteMany({ _id: { $lt: last.seq ?? 0 } });
    expect(await feed.since(1)).toBeUndefined();
    expect((await feed.since((last.seq ?? 0) - 1))?.changes.map((c) => c.seq)).toEqual([last.seq]);
    feed.stop();
  });
});
