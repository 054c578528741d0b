import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseHealth } from '../../src/storage/health.js';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { captureLogs } from '../helpers/logs.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb('health_probe');
});
afterAll(() => db.drop());

const cut = () => Object.assign(new Error('connection 3 to 127.0.0.1 closed'), { name: 'MongoNetworkError' });

describe('database health', () => {
  it('ends an outage that no connection event will end (an operation cut after "connected") by pinging', async () => {
    const health = new DatabaseHealth();
    const logs = captureLogs();
    const off = health.follow(db.conn, () => true);
    let recovered = 0;
    health.onAvailable(() => recovered++);
    try {
      // The connection stays up all along: only a failed operation says otherwise.
      expect(health.noteFailure('queued audit rows', cut())).toBe(true);
      expect(health.available).toBe(false);
      await expect.poll(() => health.available, { timeout: 5000, interval: 50 }).toBe(true);
      expect(recovered).toBe(1);
      expect(logs.lines.some((l) => l.includes('Database reachable again'))).toBe(true);
    } finally {
      off();
      logs.stop();
    }
  });

  it('does not end an outage while the process does not use the database yet', async () => {
    const health = new DatabaseHealth();
    const logs = captureLogs();
    const off = health.follow(db.conn, () => false);
    try {
      health.noteFailure('connect', cut());
      await new Promise((r) => setTimeout(r, 1500));
      expect(health.available).toBe(false);
    } finally {
      off();
      logs.stop();
    }
  });
});
