import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigStore, versionId } from '../../src/storage/config-store.js';
import { TAIL_SIZE } from '../../src/storage/change-tail.js';
import { bindModels, ensureIndexes, type ConfigVersionDoc } from '../../src/storage/config-models.js';
import { actor, openTestDb, type TestDb } from '../helpers/db.js';

// Each conditional write of the current values and versions, called with a condition that no
// longer holds: it must say so and leave what is stored exactly as it was. The concurrency tests
// cannot pin these rules (they repair before asserting, and FerretDB lets a current document lag).

const alice = actor('111111111111111111', 'alice');
const bob = actor('222222222222222222', 'bob');

async function freshStore(label: string): Promise<{ db: TestDb; store: ConfigStore }> {
  const db = await openTestDb(label);
  onTestFinished(() => db.drop());
  const models = bindModels(db.conn);
  await ensureIndexes(models);
  return { db, store: new ConfigStore(models) };
}

const version = (key: string, n: number, value: unknown, by = alice): ConfigVersionDoc => ({
  key,
  version: n,
  value,
  action: 'set',
  actor: by,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, n)),
});

/** The stored document, exactly as the database holds it. */
const stored = (db: TestDb, collection: string, id: string) =>
  db.conn.collection(collection).findOne({ _id: id as never });

/** A key whose current document is at version 2 (value 'two'), with versions 1 and 2. */
async function atVersionTwo(store: ConfigStore, key: string): Promise<void> {
  for (const v of [version(key, 1, 'one'), version(key, 2, 'two')]) {
    expect(await store.insertVersion(v)).toBe(true);
    expect(await store.advance(key, v.version === 1 ? null : 1, v)).toBe(true);
  }
}

describe('the compare-and-set of the current document (ConfigStore.advance)', () => {
  it('refuses to move it from a version it no longer holds, and leaves it untouched', async () => {
    const { db, store } = await freshStore('cas_stale');
    await atVersionTwo(store, 'K');
    const before = await stored(db, 'system_configs', 'K');
    expect(before).toMatchObject({ version: 2, value: 'two' });
    // A writer that read version 1, lost version 2 to another writer and comes back late.
    expect(await store.advance('K', 1, version('K', 3, 'stale', bob))).toBe(false);
    expect(await stored(db, 'system_configs', 'K')).toEqual(before);
  });

  it('refuses to create a current document that exists already, and leaves it untouched', async () => {
    const { db, store } = await freshStore('cas_exists');
    await atVersionTwo(store, 'K');
    const before = await stored(db, 'system_configs', 'K');
    expect(await store.advance('K', null, version('K', 1, 'first again', bob))).toBe(false);
    expect(await stored(db, 'system_configs', 'K')).toEqual(before);
  });

  it('moves it from the version it holds to the next', async () => {
    const { db, store } = await freshStore('cas_moves');
    await atVersionTwo(store, 'K');
    expect(await store.advance('K', 2, version('K', 3, 'three', bob))).toBe(true);
    expect(await stored(db, 'system_configs', 'K')).toMatchObject({
      version: 3,
      value: 'three',
      updatedBy: bob,
    });
  });
});

describe('versions (ConfigStore.insertVersion)', () => {
  it('are written once: a second writer of the same version gets false and changes nothing', async () => {
    const { db, store } = await freshStore('version_once');
    await atVersionTwo(store, 'K');
    const before = await stored(db, 'config_versions', versionId('K', 2));
    expect(await store.insertVersion(version('K', 2, 'lost race', bob))).toBe(false);
    expect(await stored(db, 'config_versions', versionId('K', 2))).toEqual(before);
    expect(await db.conn.collection('config_versions').countDocuments({ key: 'K' })).toBe(2);
  });
});

describe('the value-only repair (ConfigStore.setCurrentValue)', () => {
  it('leaves a current document that moved past the version it was asked about untouched', async () => {
    const { db, store } = await freshStore('value_stale');
    await atVersionTwo(store, 'K');
    const before = await stored(db, 'system_configs', 'K');
    expect(await store.setCurrentValue('K', 1, 'old value')).toBe(false);
    expect(await stored(db, 'system_configs', 'K')).toEqual(before);
    expect(await store.setCurrentValue('K', 2, 'repaired')).toBe(true);
    expect(await stored(db, 'system_configs', 'K')).toMatchObject({ version: 2, value: 'repaired' });
  });
});

describe('the rewrite of key rotation (ConfigStore.replaceSealed)', () => {
  it('never overwrites a value written since it was read', async () => {
    const { db, store } = await freshStore('reseal_stale');
    await atVersionTwo(store, 'K');
    const found = [];
    for await (const d of store.sealedDocuments()) if (d.collection === 'system_configs') found.push(d);
    expect(found).toMatchObject([{ id: 'K', field: 'value', stored: 'two' }]);
    const read = found[0] as (typeof found)[number];
    // A writer moves the key on between the rotation's read and its rewrite.
    expect(await store.insertVersion(version('K', 3, 'three', bob))).toBe(true);
    expect(await store.advance('K', 2, version('K', 3, 'three', bob))).toBe(true);
    const before = await stored(db, 'system_configs', 'K');
    expect(await store.replaceSealed(read, 'resealed two')).toBe(false);
    expect(await stored(db, 'system_configs', 'K')).toEqual(before);
  });
});

describe('the intent of a writer (ConfigStore.markPending)', () => {
  it('never moves back: a slower writer announcing a lower version leaves the higher one', async () => {
    const { db, store } = await freshStore('pending_max');
    await atVersionTwo(store, 'K');
    await store.markPending('K', 4);
    await store.markPending('K', 3);
    expect(await stored(db, 'system_configs', 'K')).toMatchObject({ version: 2, pending: 4 });
  });
});

describe('the tail of the change log (ConfigStore.publish)', () => {
  it('never moves back: an entry published late leaves the newer one in its slot, and the head', async () => {
    const { db, store } = await freshStore('head_max');
    const other = new ConfigStore(bindModels(db.conn));
    await store.publish([{ seq: 7 + TAIL_SIZE, slot: 'K', version: 3 }]);
    // A writer that stalled for TAIL_SIZE commits publishes into the same slot afterwards.
    await other.publish([{ seq: 7, slot: 'K', version: 2 }]);
    expect(await store.changes.head()).toBe(7 + TAIL_SIZE);
    expect((await store.changes.tail.after(0)).map((e) => e.seq)).toEqual([7 + TAIL_SIZE]);
  });

  it('carries each version as stored, and of many only the newest TAIL_SIZE', async () => {
    const { store } = await freshStore('tail_carry');
    const at = new Date();
    const many = Array.from({ length: TAIL_SIZE + 5 }, (_, i) => ({
      seq: i + 1,
      slot: `K${i}`,
      version: 1,
      doc: { key: `K${i}`, version: 1, value: i, action: 'init' as const, actor: actor(), createdAt: at },
    }));
    await store.publish(many);
    const tail = await store.changes.tail.after(0);
    expect(tail.map((e) => e.seq)).toEqual(many.slice(5).map((e) => e.seq));
    expect(tail[0]).toMatchObject({
      slot: 'K5',
      version: 1,
      doc: { key: 'K5', version: 1, value: 5, action: 'init' },
    });
    expect(await store.changes.tail.after(TAIL_SIZE + 3)).toHaveLength(2);
  });
});
