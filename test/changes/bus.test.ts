import mongoose from 'mongoose';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { ChangeBus } from '../../src/changes/bus.js';
import { ChangeFeed } from '../../src/changes/feed.js';
import { ConfigService } from '../../src/config/service.js';
import { registry } from '../../src/config/registry.js';
import { actor, uniqueDbName } from '../helpers/db.js';

/** A service on a connection that records every command the driver sends. */
async function monitored(label: string) {
  const conn = mongoose.createConnection(inject('mongoUri'), {
    dbName: uniqueDbName(label),
    monitorCommands: true,
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
  });
  await conn.asPromise();
  const commands: { name: string; collection: string }[] = [];
  conn.getClient().on('commandStarted', (e) => {
    const collection = (e.command as Record<string, unknown>)[e.commandName];
    commands.push({ name: e.commandName, collection: typeof collection === 'string' ? collection : '' });
  });
  const config = new ConfigService({ registry, conn });
  await config.init();
  const feed = new ChangeFeed(config, { intervalMs: 60_000 });
  await feed.prime();
  await feed.start();
  onTestFinished(async () => {
    feed.stop();
    await config.close();
    await conn.dropDatabase();
    await conn.close();
  });
  return { config, feed, commands };
}

describe('the change bus', () => {
  it('carries a commit of this process to the feed with its value, reading nothing back', async () => {
    const { config, feed, commands } = await monitored('bus_commit');
    const advanced: number[] = [];
    feed.onAdvance((p) => advanced.push(p));
    commands.length = 0;
    const done = await config.set('MAX_BATCH_SIZE', '250', actor());
    // The feed moved to the commit's position before the write returned.
    expect(advanced).toContain(done.seq);
    expect(feed.position).toBe(done.seq);
    const page = await feed.since((done.seq ?? 1) - 1);
    expect(page?.changes).toEqual([
      expect.objectContaining({
        seq: done.seq,
        key: 'MAX_BATCH_SIZE',
        version: 2,
        action: 'set',
        value: 250,
      }),
    ]);
    // Only the write's own commands: no read of the log, its entries or the version written.
    const reads = commands.filter(
      (c) => c.name === 'find' && (c.collection === 'config_changes' || c.collection === 'config_versions'),
    );
    expect(reads).toEqual([]);
  });

  it('contains a listener that throws, and the others still hear the change', async () => {
    const bus = new ChangeBus();
    const heard: string[] = [];
    bus.on('advanced', () => {
      throw new Error('listener bug');
    });
    bus.on('advanced', (p) => void heard.push(`advanced ${p}`));
    bus.onValues(['MAX_BATCH_SIZE'], (c) => void heard.push(`value ${c.key}`));
    bus.emit('advanced', 7);
    bus.emit('value', {
      key: 'MAX_BATCH_SIZE',
      scope: 'global',
      oldValue: 1,
      newValue: 2,
      version: 2,
      action: 'set',
      actor: actor(),
    });
    bus.emit('value', {
      key: 'LOG_LEVEL',
      scope: 'global',
      oldValue: 'info',
      newValue: 'debug',
      version: 2,
      action: 'set',
      actor: actor(),
    });
    expect(heard).toEqual(['advanced 7', 'value MAX_BATCH_SIZE']);
  });
});
