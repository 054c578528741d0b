import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigChange } from '../../src/config/events.js';
import type { ConfigService } from '../../src/config/service.js';
import { ConfigSync } from '../../src/changes/sync.js';
import { connect } from '../../src/storage/connection.js';
import { actor, openService, skipWithoutOwnServer, useOwnServer, type TestDb } from '../helpers/db.js';
import { outcome } from '../helpers/outcome.js';

// Process X is the fixture's service, following the database with ConfigSync; Y is a second
// process's connection and service on the same database.
const f = useOwnServer('catchup');
let dbY: TestDb;
let y: ConfigService;
let sync: ConfigSync;

beforeAll(async () => {
  if (!f.server) return;
  const connY = await connect({ uri: f.server.uri, dbName: f.db.dbName, timeoutMs: 3000 });
  dbY = { ...f.db, conn: connY, drop: () => connY.close() };
  y = await openService(dbY);
  sync = new ConfigSync(f.svc, f.db.conn, { intervalMs: 200 });
  await sync.start();
});
afterAll(async () => {
  if (!f.server) return;
  await sync.stop();
  await y.close();
  await dbY.drop();
});

describe('after a lost connection', () => {
  // Its waits add up to more than the default 30 s on a loaded machine; none is a speed claim.
  it(
    'catches up on every change it missed, in order, without a restart',
    { timeout: 90_000 },
    async (ctx) => {
      const server = skipWithoutOwnServer(f, ctx, 'catch-up test');
      const x = f.svc;
      const seen: ConfigChange[] = [];
      x.subscribe(['MAX_BATCH_SIZE'], (c) => void seen.push(c));

      await server.stop();
      for (let i = 0; i < 100 && sync.status().failures === 0; i++) await sleep(100);
      expect(sync.status().failures).toBeGreaterThan(0);
      await server.restart();

      for (const value of ['200', '300', '400']) {
        let ok = false;
        for (let i = 0; i < 60 && !ok; i++) {
          ok = (await outcome(y.set('MAX_BATCH_SIZE', value, actor()))).ok;
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
    },
  );
});
