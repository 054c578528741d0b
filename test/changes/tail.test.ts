import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { ChangeFeed } from '../../src/changes/feed.js';
import { registry } from '../../src/config/registry.js';
import { ConfigService } from '../../src/config/service.js';
import { TAIL_SIZE } from '../../src/storage/change-tail.js';
import { bindModels } from '../../src/storage/config-models.js';
import { ConfigStore } from '../../src/storage/config-store.js';
import { actor, uniqueDbName } from '../helpers/db.js';

// Two processes' services on one database: A writes, B follows with its feed. B's bus never
// hears A's commits, so B learns of them only by reading the tail (or the log) itself.
const keys = [randomBytes(32)];
const dbName = uniqueDbName('tail');
let a: ConfigService;
let aConn: mongoose.Connection;

async function connection(monitor = false) {
  const conn = mongoose.createConnection(inject('mongoUri'), {
    dbName,
    monitorCommands: monitor,
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
  });
  await conn.asPromise();
  return conn;
}

/** Process B: its own connection (every command it sends recorded), service and feed. */
async function follower(intervalMs: number) {
  const conn = await connection(true);
  const commands: string[] = [];
  conn.getClient().on('commandStarted', (e) => {
    const collection = (e.command as Record<string, unknown>)[e.commandName];
    commands.push(`${e.commandName} ${typeof collection === 'string' ? collection : ''}`);
  });
  const config = new ConfigService({ registry, conn, encryptionKeys: keys });
  await config.init();
  const feed = new ChangeFeed(config, { intervalMs });
  await feed.prime();
  await feed.start();
  onTestFinished(async () => {
    feed.stop();
    await config.close();
    await conn.close();
  });
  return { config, feed, commands };
}

/** A writer that wrote the next version of `key` and logged it, and did nothing more. */
async function logOnly(key: string, value: unknown): Promise<{ version: number; seq: number }> {
  const store = new ConfigStore(bindModels(aConn));
  const version = a.cachedVersion(key) + 1;
  await store.insertVersion({ key, version, value, action: 'set', actor: actor(), createdAt: new Date() });
  return { version, seq: await store.changes.append(key, version) };
}

beforeAll(async () => {
  aConn = await connection();
  a = new ConfigService({ registry, conn: aConn, encryptionKeys: keys });
  await a.init();
});
afterAll(async () => {
  await a.close();
  await aConn.dropDatabase();
  await aConn.close();
});

describe("following other processes' changes through the log's tail", () => {
  it('applies a commit from the entry itself: no read of the log or of the version', async () => {
    const b = await follower(20);
    b.commands.length = 0;
    const done = await a.set('MAX_BATCH_SIZE', '321', actor());
    await expect.poll(() => b.config.get('MAX_BATCH_SIZE'), { timeout: 5000, interval: 10 }).toBe(321);
    await expect.poll(() => b.feed.position).toBe(done.seq);
    const reads = b.commands.filter((c) => c.startsWith('find '));
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads)).toEqual(new Set(['find config_meta', 'find config_change_tail']));
  });

  it('does not carry a sensitive value in the tail; the follower reads it sealed from the versions', async () => {
    const b = await follower(20);
    const url = 'https://hooks.example.com/tail-secret';
    const done = await a.set('EXPORT_WEBHOOK_URL', url, actor());
    await expect.poll(() => b.config.get('EXPORT_WEBHOOK_URL'), { timeout: 5000, interval: 10 }).toBe(url);
    const entry = await aConn.collection('config_change_tail').findOne({ seq: done.seq });
    expect(entry).toMatchObject({ slot: 'EXPORT_WEBHOOK_URL', version: done.version });
    expect(entry).not.toHaveProperty('carried');
    expect(JSON.stringify(await aConn.collection('config_change_tail').find().toArray())).not.toContain(
      'tail-secret',
    );
  });

  it('reads an entry whose writer stopped before publishing it from the log, in order', async () => {
    const b = await follower(20);
    const from = b.feed.position;
    // A writer that logged version N+1 and stopped before publishing it (and before moving the
    // current value), then another commit that was published.
    const { version, seq: lost } = await logOnly('IMMEDIATE_EXPORT_BUFFER', 42);
    const next = await a.set('MAX_BATCH_SIZE', '654', actor());
    expect(next.seq).toBe(lost + 1);
    await expect.poll(() => b.feed.position, { timeout: 5000, interval: 10 }).toBe(next.seq);
    expect(b.config.get('IMMEDIATE_EXPORT_BUFFER')).toBe(42);
    expect(b.config.get('MAX_BATCH_SIZE')).toBe(654);
    const page = await b.feed.since(from);
    expect(page?.changes.map((c) => [c.seq, c.key, c.version])).toEqual([
      [lost, 'IMMEDIATE_EXPORT_BUFFER', version],
      [next.seq, 'MAX_BATCH_SIZE', next.version],
    ]);
  });

  it('follows a process of an earlier release, which moves the marker but publishes nothing', async () => {
    const b = await follower(20);
    const { seq } = await logOnly('AI_CONFIDENCE_THRESHOLD', 0.42);
    // What that release's writer does after its version: the marker, by $max on the head.
    await aConn
      .collection<{ _id: string }>('config_meta')
      .updateOne({ _id: 'changes' }, { $set: { marker: 'older-release' }, $max: { seq } });
    await expect.poll(() => b.feed.position, { timeout: 5000, interval: 10 }).toBe(seq);
    expect(b.config.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.42);
  });

  it('catches up from the log, in order, when it fell further behind than the tail keeps', async () => {
    // No timer to speak of: B reads only when told to, after A committed more than the tail holds.
    const b = await follower(3_600_000);
    const from = b.feed.position;
    const seqs: number[] = [];
    for (let i = 0; i < TAIL_SIZE + 4; i++)
      seqs.push((await a.set('MAX_BATCH_SIZE', String(500 + i), actor())).seq ?? 0);
    await b.feed.pull();
    expect(b.feed.position).toBe(seqs.at(-1));
    expect(b.config.get('MAX_BATCH_SIZE')).toBe(500 + TAIL_SIZE + 3);
    const page = await b.feed.since(from);
    expect(page?.changes.map((c) => c.seq)).toEqual(seqs);
    expect(page?.changes.map((c) => c.value)).toEqual(seqs.map((_, i) => 500 + i));
  });
});
