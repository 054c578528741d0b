import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { ScheduleRunner } from '../../src/timed/schedule-runner.js';
import { ConfigService } from '../../src/config/service.js';
import { actor } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';

const admin = actor();
const HOUR = 3_600_000;

function runner(svc: ConfigService, holder = 'test', alerts: string[] = []) {
  const r = new ScheduleRunner(svc, svc.conn, { holder, alert: async (t) => void alerts.push(t) });
  onTestFinished(() => r.stop());
  return r;
}

/** Makes every pending change due now, as if its time had come. */
async function makeDue(svc: ConfigService): Promise<void> {
  await svc.conn
    .collection('config_schedules')
    .updateMany({ status: 'pending' }, { $set: { runAt: new Date(Date.now() - 1000) } });
}

const actions = async (svc: ConfigService, key: string, scope?: string) =>
  (await svc.history(key, { scope: scope ?? null, limit: 20 })).map(
    (v) => `${v.version}:${v.action}:${String(v.value)}`,
  );

describe('temporary values (for:)', () => {
  it('holds the value until its time, then restores the one it replaced as an expire version', async () => {
    const { svc } = await freshService('sched_expire');
    await svc.set('MAX_BATCH_SIZE', '150', admin);
    const r = await svc.set('MAX_BATCH_SIZE', '500', admin, 'load test', {}, { forMs: 2 * HOUR });
    expect(r.until?.then).toBe('150');
    expect(r.until!.at.getTime() - Date.now()).toBeGreaterThan(2 * HOUR - 60_000);
    const [pending] = await svc.timed.pending('MAX_BATCH_SIZE');
    expect(pending).toMatchObject({ kind: 'expire', value: 150, baseVersion: 3, status: 'pending' });
    expect(await runner(svc).tick()).toBe(0); // not due yet
    await makeDue(svc);
    expect(await runner(svc).tick()).toBe(1);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(150);
    expect(await actions(svc, 'MAX_BATCH_SIZE')).toEqual([
      '4:expire:150',
      '3:set:500',
      '2:set:150',
      '1:init:100',
    ]);
    expect(await svc.timed.pending()).toEqual([]);
  });

  it('an override that did not exist before is removed when it expires', async () => {
    const { svc } = await freshService('sched_unset');
    const r = await svc.set(
      'AI_CONFIDENCE_THRESHOLD',
      '0.7',
      admin,
      undefined,
      {},
      { scope: 'env:production', forMs: HOUR },
    );
    expect(r.until?.then).toBe('inherits (0.85)');
    await makeDue(svc);
    await runner(svc).tick();
    expect(svc.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.85);
    expect(await actions(svc, 'AI_CONFIDENCE_THRESHOLD', 'env:production')).toEqual([
      '2:unset:null',
      '1:set:0.7',
    ]);
  });

  it('is skipped, and audited, when someone changed the key since: the newer change wins', async () => {
    const { svc } = await freshService('sched_skip');
    await svc.set('MAX_BATCH_SIZE', '500', admin, undefined, {}, { forMs: HOUR });
    await svc.set('MAX_BATCH_SIZE', '600', admin);
    await makeDue(svc);
    await runner(svc).tick();
    expect(svc.get('MAX_BATCH_SIZE')).toBe(600);
    const doc = await svc.conn.collection('config_schedules').findOne({});
    expect(doc).toMatchObject({ status: 'skipped', outcome: expect.stringMatching(/the newer change wins/) });
    const refused = await svc.auditLog({ key: 'MAX_BATCH_SIZE', action: 'expire' });
    expect(refused).toEqual([
      expect.objectContaining({ status: 'failed', error: expect.stringMatching(/changed since/) }),
    ]);
  });

  it('an expiry the rules would refuse is not applied, and says why', async () => {
    const { svc } = await freshService('sched_rule');
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '120', admin);
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '30', admin, undefined, {}, { forMs: HOUR }); // back to 120 later
    await svc.set('DAILY_EXPORT_TIME', '22:00', admin); // 22:00 + 30 min: fine now, not with 120
    await makeDue(svc);
    const alerts: string[] = [];
    await runner(svc, 'r', alerts).tick();
    expect(svc.get('IMMEDIATE_EXPORT_BUFFER')).toBe(30);
    const doc = await svc.conn.collection('config_schedules').findOne({ key: 'IMMEDIATE_EXPORT_BUFFER' });
    expect(doc).toMatchObject({
      status: 'conflicted',
      outcome: expect.stringMatching(/refused by today's rules: .*must end before midnight/),
    });
    expect(alerts).toHaveLength(1);
  });

  it('runs exactly once with two processes racing for it, and after a holder died having applied it', async () => {
    const { db, svc } = await freshService('sched_once');
    const other = new ConfigService({ registry, conn: db.conn });
    await other.init();
    onTestFinished(() => other.close());
    // Four temporary values in a row: each takes over the expiry of the one before, so the last
    // one to end restores the value from before the first.
    for (let i = 0; i < 4; i++)
      await svc.set('MAX_BATCH_SIZE', String(300 + i), admin, undefined, {}, { forMs: HOUR });
    expect((await svc.timed.pending('MAX_BATCH_SIZE')).map((d) => d.value)).toEqual([100]);
    await makeDue(svc);
    const [a, b] = await Promise.all([runner(svc, 'a').tick(), runner(other, 'b').tick()]);
    expect(a + b).toBe(1);
    await svc.refresh(); // whichever process ran it
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
    const expires = (await actions(svc, 'MAX_BATCH_SIZE')).filter((x) => x.includes(':expire:'));
    expect(expires).toEqual(['6:expire:100']);
    const docs = await db.conn.collection('config_schedules').find({}).toArray();
    expect(docs.map((d) => d.status).sort()).toEqual(['cancelled', 'cancelled', 'cancelled', 'done']);

    // A holder that applied a change and died before recording it: the next one records it, once.
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '45', admin, undefined, {}, { forMs: HOUR });
    await makeDue(svc);
    const [due] = await svc.schedules.due(new Date());
    await svc.timed.apply(due!);
    await runner(other, 'c').tick();
    expect((await svc.schedules.get(due!._id))?.outcome).toBe('applied (recorded after a take-over)');
    expect(
      (await actions(svc, 'IMMEDIATE_EXPORT_BUFFER')).filter((x) => x.includes(':expire:')),
    ).toHaveLength(1);
  });
});

describe('scheduled changes (at:)', () => {
  it('validates at once, applies at its time as a scheduled version, and can be combined with for:', async () => {
    const { svc } = await freshService('sched_apply');
    await expect(
      svc.timed.schedule('MAX_BATCH_SIZE', '5000', new Date(Date.now() + HOUR), admin),
    ).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    });
    await expect(
      svc.timed.schedule('MAX_BATCH_SIZE', '500', new Date(Date.now() - 1000), admin),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/has passed/),
    });
    const planned = await svc.timed.schedule(
      'MAX_BATCH_SIZE',
      '500',
      new Date(Date.now() + HOUR),
      admin,
      'night run',
      {},
      { forMs: HOUR },
    );
    expect(planned).toMatchObject({
      key: 'MAX_BATCH_SIZE',
      scope: 'global',
      display: '500',
      thenForMs: HOUR,
    });
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
    await makeDue(svc);
    await runner(svc).tick();
    expect(svc.get('MAX_BATCH_SIZE')).toBe(500);
    // Then its own expiry is planned, and restores the value it replaced.
    const [expiry] = await svc.timed.pending('MAX_BATCH_SIZE');
    expect(expiry).toMatchObject({ kind: 'expire', value: 100 });
    await makeDue(svc);
    await runner(svc).tick();
    expect(await actions(svc, 'MAX_BATCH_SIZE')).toEqual(['3:expire:100', '2:scheduled:500', '1:init:100']);
    const audit = await bindModels(svc.conn)
      .ConfigAudit.find({ key: 'MAX_BATCH_SIZE', action: 'schedule' })
      .lean();
    // The two refused attempts are audited too.
    expect(audit.map((a) => a.status).sort()).toEqual(['failed', 'failed', 'success']);
  });

  it('is not applied when the key changed after it was scheduled: marked conflicted and alerted', async () => {
    const { svc } = await freshService('sched_conflict');
    await svc.timed.schedule('LOG_LEVEL', 'debug', new Date(Date.now() + HOUR), admin);
    await svc.set('LOG_LEVEL', 'warn', admin);
    await makeDue(svc);
    const alerts: string[] = [];
    await runner(svc, 'x', alerts).tick();
    expect(svc.get('LOG_LEVEL')).toBe('warn');
    expect(alerts).toEqual([
      expect.stringMatching(/Scheduled change of LOG_LEVEL at global .* was not applied: conflicted/),
    ]);
  });

  it('a cancelled change never happens, and the cancel is audited', async () => {
    const { svc } = await freshService('sched_cancel');
    const planned = await svc.timed.schedule('LOG_LEVEL', 'debug', new Date(Date.now() + HOUR), admin);
    await svc.timed.cancel(planned.id, admin);
    await expect(svc.timed.cancel(planned.id, admin)).rejects.toMatchObject({
      message: expect.stringMatching(/no longer pending/),
    });
    await makeDue(svc);
    expect(await runner(svc).tick()).toBe(0);
    expect(svc.get('LOG_LEVEL')).toBe('info');
    expect(await svc.auditLog({ action: 'cancel' })).toHaveLength(1);
  });

  it('a change a runner has claimed can no longer be cancelled: it is being applied', async () => {
    const { svc } = await freshService('sched_claimed');
    const planned = await svc.timed.schedule('LOG_LEVEL', 'debug', new Date(Date.now() + HOUR), admin);
    expect(await svc.schedules.claim(planned.id, 'someone')).toBe(true);
    await expect(svc.timed.cancel(planned.id, admin)).rejects.toMatchObject({
      message: expect.stringMatching(/is being applied right now; nothing was cancelled/),
    });
  });

  it('a change that cannot be carried out is recorded once and holds up none after it', async () => {
    const { svc } = await freshService('sched_stuck');
    const alerts: string[] = [];
    // A change of a key this registry no longer declares, due first.
    await svc.conn.collection('config_schedules').insertOne({
      _id: 'gone-key',
      key: 'REMOVED_KEY',
      scope: 'global',
      kind: 'apply',
      runAt: new Date(Date.now() - 60_000),
      value: 1,
      baseVersion: 1,
      status: 'pending',
      createdBy: admin,
      createdAt: new Date(),
    } as never);
    await svc.timed.schedule('LOG_LEVEL', 'warn', new Date(Date.now() + HOUR), admin);
    await makeDue(svc);
    expect(await runner(svc, 'r', alerts).tick()).toBe(2);
    expect(svc.get('LOG_LEVEL')).toBe('warn');
    expect(await svc.schedules.get('gone-key')).toMatchObject({
      status: 'conflicted',
      outcome: expect.stringMatching(/^could not be applied: Unknown setting REMOVED_KEY/),
    });
    expect(alerts).toHaveLength(1);
  });

  it('a scheduled change with for: applied by a holder that died still gets its expiry, once', async () => {
    const { svc } = await freshService('sched_expiry_takeover');
    const planned = await svc.timed.schedule(
      'MAX_BATCH_SIZE',
      '400',
      new Date(Date.now() + HOUR),
      admin,
      undefined,
      {},
      { forMs: HOUR },
    );
    await makeDue(svc);
    const doc = await svc.schedules.get(planned.id);
    // The holder applies the version, then dies before planning the expiry or recording anything.
    await svc.schedules.claim(planned.id, 'dead');
    await svc.conn
      .collection('config_schedules')
      .updateOne({ _id: planned.id } as never, { $set: { status: 'pending' } });
    await svc.conn.collection('config_versions').insertOne({
      _id: 'MAX_BATCH_SIZE@2',
      key: 'MAX_BATCH_SIZE',
      version: 2,
      value: 400,
      action: 'scheduled',
      actor: { id: `schedule:${planned.id}`, tag: 'scheduled change' },
      createdAt: new Date(),
    } as never);
    await runner(svc).tick();
    expect((await svc.schedules.get(planned.id))?.outcome).toBe('applied (recorded after a take-over)');
    const expiry = await svc.schedules.get(`${doc!._id}-expiry`);
    expect(expiry).toMatchObject({ kind: 'expire', value: 100, baseVersion: 2, status: 'pending' });
  });
});
