import { describe, expect, it } from 'vitest';
import { actor } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';

const alice = actor('111111111111111111', 'alice');
const bob = actor('222222222222222222', 'bob');
const HIGH = 'AI_CONFIDENCE_THRESHOLD';

// Found by npm run chaos (kills), an approving process SIGKILLed at random points: in the middle
// of a request's apply, after writing a change's version (the request was then resumed and
// reported that change "not applied", its slot having moved since: by the request itself, and
// failed); and between recording the approval that met the quorum and the apply (the request
// stayed pending for good, the approver's second try refused as "already approved").
describe('a request whose approving process died', () => {
  it('after writing a change, is resumed as applied, the change completed once (current value, audit row)', async () => {
    const { db, svc } = await freshService('req_resume_cut', { approvals: { high: 1 } });
    const id = await svc.set(HIGH, '0.9', alice).then(
      () => '',
      (err: { context?: { request?: string } }) => String(err.context?.request),
    );
    // The dead process: claimed it, wrote the version of its change, and died before the current
    // value, the audit row and the request's own record of it.
    await db.conn.collection('config_versions').insertOne({
      _id: `${HIGH}@2` as never,
      key: HIGH,
      version: 2,
      value: 0.9,
      action: 'set',
      actor: alice,
      request: id,
      approvers: [bob],
      createdAt: new Date(),
    });
    await db.conn.collection('config_change_requests').updateOne(
      { _id: id as never },
      {
        $set: {
          status: 'applying',
          applyingSince: new Date(Date.now() - 120_000),
          approvals: [{ actor: bob, at: new Date() }],
        },
      },
    );
    await svc.requests.resume();
    const req = await svc.requests.get(id);
    expect(req.status).toBe('applied');
    expect(req.changes[0]?.appliedVersion).toBe(2);
    expect(svc.get(HIGH)).toBe(0.9);
    expect(await db.conn.collection('config_versions').countDocuments({ key: HIGH })).toBe(2);
    expect(await db.conn.collection('system_configs').findOne({ _id: HIGH as never })).toMatchObject({
      version: 2,
    });
    expect(
      await db.conn
        .collection('config_audit_logs')
        .countDocuments({ key: HIGH, version: 2, status: 'success' }),
    ).toBe(1);
  });

  it('is applied by the upkeep when its approver died between the approval that met the quorum and the apply', async () => {
    const { db, svc } = await freshService('req_resume_approved', { approvals: { high: 1 } });
    const id = await svc.set(HIGH, '0.9', alice).then(
      () => '',
      (err: { context?: { request?: string } }) => String(err.context?.request),
    );
    const approved = (at: Date) =>
      db.conn
        .collection('config_change_request_claims')
        .replaceOne({ _id: `approve:${id}#1:${bob.id}` as never }, { actor: bob, at }, { upsert: true });
    // Just approved: its approver may still be applying it, so the upkeep leaves it.
    await approved(new Date());
    await svc.requests.resume();
    expect((await svc.requests.get(id)).status).toBe('pending');
    // Approved long ago and never claimed: the approver died.
    await approved(new Date(Date.now() - 120_000));
    await svc.requests.resume();
    expect((await svc.requests.get(id)).status).toBe('applied');
    expect(svc.get(HIGH)).toBe(0.9);
  });
});
