import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigChange } from '../../src/config/events.js';
import type { ConfigService } from '../../src/config/service.js';
import { ConfigSync } from '../../src/config/sync.js';
import { actor, openService, openTestDb, startOwnServer, type TestDb } from '../helpers/db.js';

type OwnServer = NonNullable<Awaited<ReturnType<typeof startOwnServer>>>;
let server: OwnServer | undefined;
let dbX: TestDb;
let dbY: TestDb;
let x: ConfigService;
let y: ConfigService;
let sync: ConfigSync;

beforeAll(async () => {
  server = await startOwnServer();
  if (!server) return;
  dbX = await openTestDb('catchup', server.uri);
  x = await openService(dbX);
  // A second process's connection to the same database.
  const { connect } = await import('../../src/db/connection.js');
  const connY = await connect({ uri: server.uri, dbName: dbX.dbName, timeoutMs: 3000 });
  dbY = { ...dbX, conn: connY, drop: () => connY.close() };
  y = await openService(dbY);
  sync = new ConfigSync(x, dbX.conn, { intervalMs: 200 });
  await sync.start();
});
afterAll(async () => {
  if (!server) return;
  await sync.stop();
  await y.close();
  await x.close();
  await dbY.drop();
  await dbX.drop();
  await server.cleanup();
});

describe('after a lost connection', () => {
  it('catches up on every change it missed, in order, without a restart', async (ctx) => {
    if (!server) {
      process.stderr.write('catch-up test skipped: MONGODB_URI points to a server this test cannot stop\n');
      ctx.skip();
      return;
    }
    const seen: ConfigChange[] = [];
    x.subscribe(['MAX_BATCH_SIZE'], (c) => void seen.push(c));

    await server.stop();
    for (let i = 0; i < 100 && sync.status().failures === 0; i++) await sleep(100);
    expect(sync.status().failures).toBeGreaterThan(0);
    await server.restart();

    for (const value of ['200', '300', '400']) {
      let ok = false;
      for (let i = 0; i < 60 && !ok; i++) {
        ok = (await y.set('MAX_BATCH_SIZE', value, actor())).ok;
        if (!ok) await sleep(250);
      }
      expect(ok).toBe(true);
    }
    for (let i = 0; i < 150 && seen.length < 3; i++) await sleep(100);
    expect(seen.map((c) => [c.version, c.oldValue, c.newValue])).toEqual([
      [2, 100, 200],
      [3, 200, 300],
      [4, 300, 400],
    ]);
    expect(x.get('MAX_BATCH_SIZE')).toBe(400);
    expect(x.stats().database).toBe('connected');
  });
});
