import { describe, expect, it, onTestFinished } from 'vitest';
import { KillAlertClaims } from '../../src/storage/kill-alerts.js';
import { openTestDb } from '../helpers/db.js';

describe('kill alert claims (KillAlertClaims)', () => {
  it('go to the first process: another claiming the same kill gets false and the claim stays the first one’s', async () => {
    const db = await openTestDb('kill_claims');
    onTestFinished(() => db.drop());
    const claims = new KillAlertClaims(db.conn);
    expect(await claims.claim('checkout', 7, 'bot-a')).toBe(true);
    const before = await db.conn.collection('flag_kill_alerts').find().toArray();
    expect(before).toMatchObject([{ _id: 'checkout@7', by: 'bot-a' }]);
    expect(await claims.claim('checkout', 7, 'bot-b')).toBe(false);
    expect(await db.conn.collection('flag_kill_alerts').find().toArray()).toEqual(before);
    // Another kill of the same flag (a later version) is a claim of its own.
    expect(await claims.claim('checkout', 9, 'bot-b')).toBe(true);
  });
});
