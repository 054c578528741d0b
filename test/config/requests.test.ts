import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { actor, openService } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';

const alice = actor('111111111111111111', 'alice');
const bob = actor('222222222222222222', 'bob');
const carol = actor('333333333333333333', 'carol');
const HIGH = 'AI_CONFIDENCE_THRESHOLD';

/** The id of the request a write created instead of applying. */
async function requested(p: Promise<unknown>): Promise<string> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; context?: { request?: string } } | undefined;
  expect(err?.code).toBe('APPROVAL_REQUIRED');
  return String(err?.context?.request);
}

describe('change requests', () => {
  it('turns a change of a high-impact key into a request, applied once another admin approves', async () => {
    const { db, svc } = await freshService('req_apply', { approvals: { high: 1 } });
    const id = await requested(svc.set(HIGH, '0.9', alice, 'tighter'));
    expect(svc.get(HIGH)).toBe(0.85);
    const req = await svc.requests.get(id);
    expect(req).toMatchObject({ status: 'pending', level: 'high', required: 1, reason: 'tighter' });
    expect(req.changes[0]).toMatchObject({
      key: HIGH,
      scope: 'global',
      before: '0.85',
      after: '0.9',
      baseVersion: 1,
    });
    expect(req.preview.join('\n')).toContain(`Rollback plan: /config rollback setting:${HIGH} version:1`);
    // The impact preview as it stood when the request was made, kept for its reviewers.
    expect(req.preview).toContain('production: 0.85 → 0.9');
    await expect(svc.requests.approve(id, alice)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const done = await svc.requests.approve(id, bob);
    expect(done.status).toBe('applied');
    expect(svc.get(HIGH)).toBe(0.9);
    const v2 = await bindModels(db.conn).ConfigVersion.findOne({ key: HIGH, version: 2 }).lean();
    expect(v2).toMatchObject({ request: id, approvers: [bob], actor: alice, value: 0.9 });
    const audit = await bindModels(db.conn)
      .ConfigAudit.find({ key: HIGH, action: /^request-/ })
      .lean();
    expect(audit.map((a) => `${a.action}:${a.status}`).sort()).toEqual(
      [
        'request-apply:success',
        'request-approve:denied',
        'request-approve:success',
        'request-create:success',
      ].sort(),
    );
  });

  it('refuses an invalid value at once instead of making a request of it', async () => {
    const { svc } = await freshService('req_invalid', { approvals: { high: 1 } });
    await expect(svc.set(HIGH, '2', alice)).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    await expect(svc.set(HIGH, '0.85', alice)).rejects.toMatchObject({ code: 'UNCHANGED' });
    expect(await svc.requests.list()).toEqual([]);
  });

  it('applies exactly once when two admins approve at the same moment', async () => {
    const { db, svc } = await freshService('req_race', { approvals: { high: 1 } });
    const id = await requested(svc.set(HIGH, '0.91', alice));
    const other = await openService(db, { approvals: { high: 1 } });
    try {
      const results = await Promise.allSettled([
        svc.requests.approve(id, bob),
        other.requests.approve(id, carol),
      ]);
      expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
      expect(await bindModels(db.conn).ConfigVersion.countDocuments({ key: HIGH })).toBe(2);
      expect((await svc.requests.get(id)).status).toBe('applied');
    } finally {
      await other.close();
    }
  });

  it('counts two approvals made at the same moment, and closes a request once when a reject races the quorum', async () => {
    const { db, svc } = await freshService('req_quorum_race', { approvals: { high: 2 } });
    const other = await openService(db, { approvals: { high: 2 } });
    const dave = actor('444444444444444444', 'dave');
    try {
      const id = await requested(svc.set(HIGH, '0.91', alice));
      await Promise.all([svc.requests.approve(id, bob), other.requests.approve(id, carol)]);
      await svc.refresh();
      expect((await svc.requests.get(id)).status).toBe('applied');
      expect(svc.get(HIGH)).toBe(0.91);

      const next = await requested(svc.set(HIGH, '0.92', alice));
      await svc.requests.approve(next, bob);
      const outcomes = await Promise.allSettled([
        other.requests.approve(next, carol),
        svc.requests.reject(next, dave, 'not tonight'),
      ]);
      const final = await svc.requests.get(next);
      expect(['applied', 'rejected']).toContain(final.status);
      // Exactly one of them closed it: the other was told it is closed (or saw it applied).
      expect(
        outcomes.filter((o) => o.status === 'fulfilled' && ['applied', 'rejected'].includes(o.value.status))
          .length,
      ).toBeGreaterThanOrEqual(1);
      expect(await bindModels(db.conn).ConfigVersion.countDocuments({ key: HIGH })).toBe(
        final.status === 'applied' ? 3 : 2,
      );
    } finally {
      await other.close();
    }
  });

  it('clears approvals when the key moves, and never applies on top of a value nobody reviewed', async () => {
    const { db, svc } = await freshService('req_moved', { approvals: { high: 2 } });
    const id = await requested(svc.set(HIGH, '0.92', alice));
    await svc.requests.approve(id, bob);
    // Someone changes the key directly (a process without approvals, say).
    const other = await openService(db);
    await other.set(HIGH, '0.88', carol);
    await other.close();
    await svc.refresh();
    await expect(svc.requests.approve(id, carol)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('changed since the request (v1 → v2)'),
    });
    const rebased = await svc.requests.get(id);
    expect(rebased.approvals).toEqual([]);
    expect(rebased.changes[0]).toMatchObject({ baseVersion: 2, before: '0.88' });
    // Its impact preview is computed again against the value it now applies on.
    expect(rebased.preview).toContain('production: 0.88 → 0.92');
    expect(rebased.log.map((l) => l.text).join('\n')).toContain('approval(s) cleared');
    await svc.requests.approve(id, bob);
    const done = await svc.requests.approve(id, carol);
    expect(done.status).toBe('applied');
    expect(svc.get(HIGH)).toBe(0.92);
  });

  it('clears approvals when the requester edits the request', async () => {
    const { svc } = await freshService('req_edit', { approvals: { high: 2 } });
    const id = await requested(svc.set(HIGH, '0.93', alice));
    await svc.requests.approve(id, bob);
    const req = await svc.requests.get(id);
    const c = req.changes[0];
    if (!c) throw new Error('no change');
    await expect(svc.requests.edit(id, bob, [{ ...c, value: 0.94, after: '0.94' }])).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    const edited = await svc.requests.edit(id, alice, [{ ...c, value: 0.94, after: '0.94' }]);
    expect(edited.approvals).toEqual([]);
    expect(edited.rev).toBe(2);
  });

  it('rejects only with a reason, lets only the requester withdraw, and expires unapproved requests', async () => {
    const { svc } = await freshService('req_close', { approvals: { high: 1 }, approvalTtlMs: 60_000 });
    const a = await requested(svc.set(HIGH, '0.95', alice));
    await expect(svc.requests.reject(a, bob, '  ')).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    expect(await svc.requests.reject(a, bob, 'too strict for the weekend')).toMatchObject({
      status: 'rejected',
      rejectReason: 'too strict for the weekend',
      decidedBy: bob,
    });
    await expect(svc.requests.approve(a, carol)).rejects.toMatchObject({ code: 'CONFLICT' });
    const b = await requested(svc.set(HIGH, '0.96', alice));
    await expect(svc.requests.withdraw(b, bob)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((await svc.requests.withdraw(b, alice)).status).toBe('withdrawn');
    const c = await requested(svc.set(HIGH, '0.97', alice));
    expect(await svc.requests.expire(new Date(Date.now() + 120_000))).toHaveLength(1);
    expect((await svc.requests.get(c)).status).toBe('expired');
    expect(svc.get(HIGH)).toBe(0.85);
  });

  it("stores the proposed value's warnings with its change, read back as stored", async () => {
    const { svc } = await freshService('req_warnings', { approvals: { high: 1 } });
    const id = await requested(svc.set(HIGH, '0.97', alice));
    const req = await svc.requests.get(id);
    expect(req.changes[0]?.warnings).toEqual([
      '0.97 is above 0.95: most predictions will go to manual review, expect excessive review load.',
    ]);
    const quiet = await requested(svc.set(HIGH, '0.9', alice));
    expect((await svc.requests.get(quiet)).changes[0]?.warnings).toBeUndefined();
  });

  it('makes requests of rollbacks too', async () => {
    const { db, svc } = await freshService('req_rollback', { approvals: { high: 1 } });
    const direct = await openService(db);
    await direct.set(HIGH, '0.9', carol);
    await direct.close();
    await svc.refresh();
    const id = await requested(svc.rollback(HIGH, 1, alice));
    expect((await svc.requests.get(id)).changes[0]).toMatchObject({ restoredFrom: 1, after: '0.85' });
    expect(await svc.requests.approve(id, bob)).toMatchObject({ status: 'applied' });
    expect(svc.get(HIGH)).toBe(0.85);
  });

  it('makes requests of temporary and scheduled changes: approved, the value holds for its time, or is scheduled', async () => {
    const { svc } = await freshService('req_timed', { approvals: { high: 1 } });
    const temp = await requested(svc.set(HIGH, '0.9', alice, 'load test', {}, { forMs: 3_600_000 }));
    expect((await svc.requests.get(temp)).changes[0]).toMatchObject({
      forMs: 3_600_000,
      after: '0.9 for 1h',
    });
    const applied = await svc.requests.approve(temp, bob);
    expect(applied.changes[0]?.outcome).toMatch(/^applied as v2, until /);
    expect(svc.get(HIGH)).toBe(0.9);
    expect((await svc.schedules.pending()).map((p) => p.kind)).toContain('expire');

    const at = new Date(Date.now() + 3_600_000);
    const planned = await requested(svc.timed.schedule(HIGH, '0.95', at, alice, 'tonight'));
    expect((await svc.requests.get(planned)).changes[0]).toMatchObject({
      runAt: at,
      after: `0.95 at ${at.toISOString()}`,
    });
    expect((await svc.schedules.pending()).filter((p) => p.kind === 'apply')).toHaveLength(0);
    const scheduled = await svc.requests.approve(planned, bob);
    expect(scheduled.changes[0]?.outcome).toMatch(/^scheduled for /);
    expect((await svc.schedules.pending()).filter((p) => p.kind === 'apply')).toHaveLength(1);
    expect(svc.get(HIGH)).toBe(0.9);
  });

  it('finishes a request whose applying process stopped', async () => {
    const { db, svc } = await freshService('req_resume', { approvals: { high: 1 } });
    const id = await requested(svc.set(HIGH, '0.9', alice));
    // A process claimed it for applying, then died before writing anything.
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
    expect((await svc.requests.get(id)).status).toBe('applied');
    expect(svc.get(HIGH)).toBe(0.9);
  });
});

describe('batch writes and approvals', () => {
  it('a restore or an import touching a key that needs approvals becomes one change request for the whole of it', async () => {
    const { svc } = await freshService('req_batch', { approvals: { high: 1 } });
    const { applyPlannedChanges } = await import('../../src/transfer/snapshot-apply.js');
    const { applyImport } = await import('../../src/transfer/import-plan.js');
    const restored = await applyPlannedChanges(
      svc,
      [
        { key: HIGH, scope: 'global', value: 0.9, expectedVersion: 1 },
        { key: 'MAX_BATCH_SIZE', scope: 'global', value: 250, expectedVersion: 1 },
      ],
      alice,
      'restore test',
    );
    expect(restored.map((r) => r.status)).toEqual(['requested', 'requested']);
    const ids = new Set(restored.map((r) => (r.status === 'requested' ? r.request : '')));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const request = await svc.requests.get(String(id));
    expect(request).toMatchObject({ kind: 'restore', required: 1, level: 'high' });
    expect(request.changes.map((c) => `${c.key}: ${c.before} → ${c.after}`)).toEqual([
      `${HIGH}: 0.85 → 0.9`,
      'MAX_BATCH_SIZE: 100 → 250',
    ]);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
    const imported = await applyImport(
      svc,
      [{ key: HIGH, scope: 'global', value: 0.95, expectedVersion: 1 }],
      alice,
      'import',
    );
    expect(imported[0]).toMatchObject({ status: 'requested', message: expect.stringContaining('CR-') });

    const done = await svc.requests.approve(String(id), bob);
    expect(done.status).toBe('applied');
    expect(svc.get(HIGH)).toBe(0.9);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(250);
  });

  it('a restore of keys that need no approval applies at once', async () => {
    const { svc } = await freshService('req_batch_free', { approvals: { high: 1 } });
    const { applyPlannedChanges } = await import('../../src/transfer/snapshot-apply.js');
    const restored = await applyPlannedChanges(
      svc,
      [{ key: 'MAX_BATCH_SIZE', scope: 'global', value: 250, expectedVersion: 1 }],
      alice,
      'restore test',
    );
    expect(restored).toMatchObject([{ status: 'restored', version: 2 }]);
  });
});
