import mongoose from 'mongoose';
import { ChangeFeed } from '../../src/changes/feed.js';
import { registry } from '../../src/config/registry.js';
import { ConfigService } from '../../src/config/service.js';

/**
 * Database commands per committed write of one process that also follows the log (its feed,
 * which its event streams read): the write's own commands and the feed's, counted by the
 * driver's command monitoring over `writes` sets, in a database of its own (dropped after).
 */
export async function roundTripsPerPut(uri: string, dbName: string, writes: number): Promise<number> {
  const conn = mongoose.createConnection(uri, {
    dbName,
    monitorCommands: true,
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
  });
  await conn.asPromise();
  let commands = 0;
  conn.getClient().on('commandStarted', () => commands++);
  const config = new ConfigService({ registry, conn });
  await config.init();
  // No timer: only what each write sets off is counted.
  const feed = new ChangeFeed(config, { intervalMs: 3_600_000 });
  await feed.prime();
  await feed.start();
  const admin = { id: '100000000000000001', tag: 'bench' };
  try {
    commands = 0;
    for (let i = 0; i < writes; i++) {
      const done = await config.set('MAX_BATCH_SIZE', String(100 + (i % 2) + 1), admin);
      // The feed has taken the write when it stands at its position.
      while (feed.position < (done.seq ?? 0)) await new Promise((r) => setTimeout(r, 1));
    }
    // Let whatever the writes set off settle before counting.
    await new Promise((r) => setTimeout(r, 300));
    return commands / writes;
  } finally {
    feed.stop();
    await config.close();
    await conn.dropDatabase();
    await conn.close();
  }
}
