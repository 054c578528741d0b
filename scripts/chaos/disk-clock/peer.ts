/**
 * A bot-like process for the clock-skew fault: the real runtime with its jobs (the scheduler, the
 * runner of temporary and scheduled changes), without Discord, driven by one JSON command a line
 * on stdin and answering one JSON line each on stdout. Started with its clock moved (libfaketime
 * or skew-clock.ts), it is a bot process on a machine whose clock is wrong.
 *
 *   {"id":"1","op":"now"}                                          → {"id":"1","now":<ms>}
 *   {"id":"1","op":"get","key":"K"}                                → {"id":"1","value":...}
 *   {"id":"2","op":"hold","lease":"L"}                             → {"id":"2","kind":"acquired"|"held"|...}
 *   {"id":"3","op":"release","lease":"L"}                          → {"id":"3","lost":false}
 *   {"id":"4","op":"set","key":"K","value":"V","forMs":2000}       → {"id":"4","version":4}
 *   {"id":"5","op":"schedule","key":"K","value":"V","inMs":2000}   → {"id":"5","schedule":"<id>","runAt":<ms>}
 *   {"id":"6","op":"export","date":"2026-12-07"}                   → {"id":"6","status":"completed"|"skipped"|"refused",...}
 * (set and schedule take "scope" too.)
 */
import { createInterface } from 'node:readline';
import { exportDeps } from '../../../src/app/jobs.js';
import { runEntryPoint } from '../../../src/app/cli.js';
import { startRuntime, type Runtime } from '../../../src/app/runtime.js';
import type { Env } from '../../../src/app/env.js';
import { manualExportDate, runDailyExport } from '../../../src/jobs/daily-export.js';
import { JobRuns, type JobRunFields } from '../../../src/storage/job-runs.js';
import type { Lease } from '../../../src/storage/lease.js';

interface Command {
  id: string;
  op: 'now' | 'get' | 'hold' | 'release' | 'set' | 'schedule' | 'export';
  lease?: string;
  scope?: string;
  key?: string;
  value?: string;
  forMs?: number;
  inMs?: number;
  date?: string;
}

/** Leases this process holds (hold, then release). */
const held = new Map<string, Lease<JobRunFields>>();

const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function handle(rt: Runtime, e: Env, runs: JobRuns, c: Command): Promise<Record<string, unknown>> {
  const actor = { id: `chaos-${rt.instanceId}`, tag: 'chaos-peer' };
  switch (c.op) {
    case 'now':
      return { now: Date.now() };
    case 'get':
      return { value: rt.config.get(c.key ?? '') };
    case 'hold': {
      // A job run of a slot both processes would run: one holds it, the other must be told so.
      const claim = await runs.acquire(c.lease ?? 'chaos', new Date(0), rt.instanceId);
      if (claim.kind !== 'acquired') return { kind: claim.kind, holder: claim.current.holder };
      held.set(c.lease ?? 'chaos', claim.lease);
      return { kind: 'acquired', tookOver: claim.tookOver?.holder ?? null };
    }
    case 'release': {
      const lease = held.get(c.lease ?? 'chaos');
      if (!lease) return { error: 'not held' };
      held.delete(c.lease ?? 'chaos');
      const alive = await lease.heartbeat();
      await lease.finish('completed');
      return { lost: !alive };
    }
    case 'set': {
      const r = await rt.config.set(
        c.key ?? '',
        c.value ?? '',
        actor,
        'chaos clock skew',
        {},
        { ...(c.scope ? { scope: c.scope } : {}), ...(c.forMs !== undefined ? { forMs: c.forMs } : {}) },
      );
      return { version: r.version };
    }
    case 'schedule': {
      const at = new Date(Date.now() + (c.inMs ?? 0));
      const s = await rt.config.timed.schedule(
        c.key ?? '',
        c.value ?? '',
        at,
        actor,
        'chaos clock skew',
        {},
        {
          ...(c.scope ? { scope: c.scope } : {}),
        },
      );
      return { schedule: s.id, runAt: at.getTime() };
    }
    case 'export': {
      let target: { date: string; slot: Date };
      try {
        target = manualExportDate(rt.config, c.date);
      } catch (err) {
        return { status: 'refused', reason: (err as Error).message };
      }
      const deps = exportDeps({
        config: rt.config,
        conn: rt.db.conn,
        env: e,
        instanceId: rt.instanceId,
        manual: true,
      });
      const r = await runDailyExport(deps, { ...target, trigger: 'manual' });
      return r.status === 'completed'
        ? { status: r.status, dir: r.dir, auditRows: r.auditRows, start: r.window.start, end: r.window.end }
        : { status: r.status, reason: r.reason };
    }
  }
}

runEntryPoint(
  async (e) => {
    const rt = await startRuntime(e, { jobs: true, report: 'bot' });
    const runs = new JobRuns(rt.db.conn, { ttlMs: e.LEASE_TTL_MS });
    say({ ready: rt.instanceId, now: Date.now() });
    for await (const line of createInterface({ input: process.stdin })) {
      let c: Command;
      try {
        c = JSON.parse(line) as Command;
      } catch {
        continue;
      }
      handle(rt, e, runs, c).then(
        (answer) => say({ id: c.id, ...answer }),
        (err: unknown) => say({ id: c.id, error: err instanceof Error ? err.message : String(err) }),
      );
    }
    // stdin closed: the scenario is done with this process.
  },
  { signalExitCode: 0 },
);
