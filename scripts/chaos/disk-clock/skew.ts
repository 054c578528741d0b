/**
 * Clocks minutes apart: bot-like processes (peer.ts) on one database, one with a correct clock
 * (A), one 5 minutes ahead (B) and, in the full run, one 5 minutes behind (C). Leases and job
 * runs, scheduled changes and temporary values, then export spans (skew-export.ts).
 */
import { randomBytes } from 'node:crypto';
import { connect } from '../../../src/storage/connection.js';
import { JobRuns, type JobRunFields } from '../../../src/storage/job-runs.js';
import type { Lease } from '../../../src/storage/lease.js';
import type { ChaosContext, FaultResult } from '../types.js';
import { blank, chainOf, notMeasured } from './accounting.js';
import { Cleanup, clockTool, stackLines, until } from './common.js';
import type { SharedDb } from './disk.js';
import { fmt, LEASE_TTL_MS, SKEW_FAULTS, SKEW_MIN, startPeer, type Peer, type SkewCtx } from './peers.js';
import { exportSpans } from './skew-export.js';

/**
 * Leases of job runs: a live holder keeps its lease whatever the other's clock says; a process
 * starting with its clock ahead must not end the runs of live holders as abandoned.
 */
async function leases(c: SkewCtx, startHold: Lease<JobRunFields>): Promise<FaultResult> {
  const row = blank(SKEW_FAULTS[0] ?? '');
  const [a, ...skewed] = c.peers as [Peer, ...Peer[]];
  const pairs: [Peer, Peer][] = skewed.flatMap((s) => [
    [a, s],
    [s, a],
  ]);
  if (skewed.length > 1)
    pairs.push([skewed[0] as Peer, skewed[1] as Peer], [skewed[1] as Peer, skewed[0] as Peer]);
  const held: { peer: Peer; lease: string }[] = [];
  for (const [holder, other] of pairs) {
    const lease = `chaos-${holder.label}-${other.label}`;
    const first = await holder.ask({ op: 'hold', lease });
    row.attempted++;
    if (first.kind !== 'acquired') {
      row.notes.push(`${holder.label} could not take a free lease: ${JSON.stringify(first)}`);
      continue;
    }
    row.succeeded++;
    held.push({ peer: holder, lease });
    const second = await other.ask({ op: 'hold', lease });
    row.attempted++;
    if (second.kind === 'held') row.refused++;
    else if (second.kind === 'acquired') {
      row.duplicated++;
      held.push({ peer: other, lease });
      row.notes.push(
        `DEFECT: ${other.label} (${fmt(other.skewMin)}) took the live lease of ${holder.label} (${fmt(holder.skewMin)})`,
      );
    } else row.notes.push(`${other.label} got ${JSON.stringify(second)}`);
  }
  for (const { peer, lease } of held) await peer.ask({ op: 'release', lease });
  row.attempted++;
  if (await startHold.heartbeat()) row.succeeded++;
  else {
    row.duplicated++;
    row.notes.push(
      'DEFECT: a live run was ended as abandoned by a process that started with its clock ahead',
    );
  }
  await startHold.finish('completed');
  row.notes.push(
    `${pairs.length} pairs of processes asked for one run each; the second must be told it is held`,
  );
  return row;
}

/**
 * Scheduled changes and temporary values planned by each process: each carried out exactly
 * once, never earlier than the planner's time by more than the skew between the two clocks.
 */
async function timedChanges(c: SkewCtx): Promise<FaultResult> {
  const row = blank(SKEW_FAULTS[1] ?? '');
  const scopes = ['global', 'env:e1', 'env:e2'];
  const since = new Date(Date.now() - 10 * 60_000);
  for (const [i, peer] of c.peers.entries()) {
    const scope = scopes[i] ?? 'global';
    row.attempted += 2;
    const s = await peer.ask({
      op: 'schedule',
      key: 'MAX_BATCH_SIZE',
      value: String(201 + i),
      inMs: 1500,
      scope,
    });
    if (typeof s.schedule === 'string') row.succeeded++;
    else row.notes.push(`${peer.label} could not schedule: ${JSON.stringify(s)}`);
    const t = await peer.ask({
      op: 'set',
      key: 'IMMEDIATE_EXPORT_BUFFER',
      value: String(41 + i),
      forMs: 1500,
      scope,
    });
    if (typeof t.version === 'number') row.succeeded++;
    else row.notes.push(`${peer.label} could not set a temporary value: ${JSON.stringify(t)}`);
  }
  const col = c.conn.collection('config_schedules');
  const mine = { createdAt: { $gte: since }, 'createdBy.tag': 'chaos-peer' };
  const doneAt = new Map<string, number>();
  const terminal = ['done', 'skipped', 'conflicted', 'cancelled'];
  const wanted = c.peers.length * 2;
  await until(async () => {
    const docs = await col.find(mine).toArray();
    for (const d of docs)
      if (terminal.includes(String(d.status)) && !doneAt.has(String(d._id)))
        doneAt.set(String(d._id), Date.now());
    return docs.length >= wanted && doneAt.size >= docs.length;
  }, 12_000);
  const docs = await col.find(mine).toArray();
  let maxEarly = 0;
  row.attempted += docs.length;
  for (const d of docs) {
    const id = String(d._id);
    const applied = await c.conn
      .collection('config_versions')
      .countDocuments({ 'actor.id': `schedule:${id}` });
    const finished = doneAt.get(id);
    if (!finished) {
      row.versionsLost++;
      row.notes.push(
        `DEFECT: ${d.kind} ${id} (${d.key} ${d.scope}) not carried out within 12 s (${d.status})`,
      );
      continue;
    }
    if (applied > 1) row.duplicated += applied - 1;
    if (d.status === 'done' && applied === 1) row.succeeded++;
    else if (d.status === 'done' && /nothing to do/.test(String(d.outcome))) row.succeeded++;
    else if (d.status === 'skipped' || d.status === 'conflicted') row.refused++;
    // When the planner meant it, on the real clock: its runAt less its own clock's skew.
    const planner = c.peers.find((p) => String(d.createdBy?.id) === `chaos-${p.instanceId}`);
    const meant = new Date(d.runAt as Date).getTime() - (planner?.skewMs ?? 0);
    maxEarly = Math.max(maxEarly, meant - finished);
  }
  const bound = Math.max(...c.peers.map((p) => Math.abs(p.skewMs))) + 1000;
  if (maxEarly > bound)
    row.notes.push(`DEFECT: a change was carried out ${maxEarly} ms early (bound ${bound} ms)`);
  row.notes.push(
    `${docs.length} timed changes; the earliest carried out ${Math.max(0, maxEarly)} ms before its planner's time (bound: the skew)`,
  );
  return row;
}

/** The clock-skew rows: leases and job runs, timed changes, export spans. */
export async function skewRows(chaos: ChaosContext, db: SharedDb): Promise<FaultResult[]> {
  const faults = SKEW_FAULTS;
  const cleanup = new Cleanup();
  const dbName = `chaos_skew_${randomBytes(3).toString('hex')}`;
  try {
    const conn = await connect({ uri: db.uri, dbName, timeoutMs: 3000 });
    cleanup.add(() => conn.close());
    const base = { chaos, uri: db.uri, dbName, conn, cleanup };
    // This process (its clock right) holds a run while the peers start: their start must leave it alone.
    const runs = new JobRuns(conn, { ttlMs: LEASE_TTL_MS });
    const held = await runs.acquire('chaos-held-across-starts', new Date(0), 'chaos-scenario');
    const peers = await Promise.all(
      [['A', 0] as const, ['B', SKEW_MIN] as const, ...(chaos.quick ? [] : [['C', -SKEW_MIN] as const])].map(
        ([l, m]) => startPeer(base, l, m),
      ),
    );
    const failed = peers.find((p): p is string => typeof p === 'string');
    if (held.kind === 'acquired') cleanup.add(async () => held.lease.stop());
    if (failed || held.kind !== 'acquired') return faults.map((f) => notMeasured(f, failed ?? 'no lease'));
    const c: SkewCtx = { ...base, peers: peers as Peer[] };
    const t0 = Date.now();
    chaos.log(`skew: peers ready`);
    const rows = [await leases(c, held.lease), await timedChanges(c), await exportSpans(c)];
    chaos.log(`skew: rows in ${Date.now() - t0} ms`);
    await Promise.all(c.peers.map((p) => p.child.stop()));
    const chainNotes: string[] = [];
    const intact = await chainOf(db.uri, dbName, chainNotes);
    chaos.log(`skew: chain checked in ${Date.now() - t0} ms`);
    for (const r of rows) {
      r.chainIntact = intact;
      r.notes.unshift(
        `clocks: ${c.peers.map((p) => `${p.label} ${fmt(p.skewMin)}`).join(', ')} (${clockTool})`,
      );
      r.notes.push(...chainNotes);
    }
    const takeovers = c.peers.flatMap((p) =>
      p.takeovers().map((l) => `${p.label}: ${l.replace(/^\S+ \S+ /, '')}`),
    );
    if (takeovers.length)
      rows[0]?.notes.push(
        `DEFECT: ${takeovers.length} take-overs logged while no holder had died: ${takeovers.slice(0, 3).join(' | ')}`,
      );
    const traces = c.peers.reduce((n, p) => n + stackLines(p.child.errLines), 0);
    if (rows[0]) rows[0].stackTraces += traces;
    return rows;
  } finally {
    await cleanup.run();
  }
}
