/**
 * Export spans under clock skew: a date is exported once, not before its export time, and the
 * completed exports tile the audit log (every row of an export's span is in it; no row in two).
 */
import type { FaultResult } from '../types.js';
import { blank } from './accounting.js';
import { until } from './common.js';
import { SKEW_FAULTS, type Peer, type SkewCtx } from './peers.js';

const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
/** The export times the registry accepts (src/config/registry.ts). */
const EXPORT_HOURS = { from: '06:00', to: '22:00' };
const dateOf = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Sets DAILY_EXPORT_TIME through `by` and waits until every peer follows it. */
async function exportTimeAt(c: SkewCtx, by: Peer, at: number): Promise<boolean> {
  const r = await by.ask({ op: 'set', key: 'DAILY_EXPORT_TIME', value: hhmm(at) });
  if (typeof r.version !== 'number' && !/already/i.test(String(r.error))) return false;
  return until(async () => {
    const seen = await Promise.all(c.peers.map((p) => p.ask({ op: 'get', key: 'DAILY_EXPORT_TIME' })));
    return seen.every((s) => s.value === hhmm(at));
  }, 5000);
}

async function writes(row: FaultResult, peer: Peer, n: number, from: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    row.attempted++;
    const r = await peer.ask({
      op: 'set',
      key: 'MAX_BATCH_SIZE',
      scope: 'env:production',
      value: String(from + i),
    });
    if (typeof r.version === 'number') row.succeeded++;
    else row.notes.push(`${peer.label} write refused: ${JSON.stringify(r)}`);
  }
}

/** One export request; a completed one before its export time (on the real clock) is a defect. */
async function exportBy(row: FaultResult, peer: Peer, date: string, slot: number): Promise<boolean> {
  row.attempted++;
  const r = await peer.ask({ op: 'export', date }, 30_000);
  if (r.status === 'completed') {
    row.succeeded++;
    if (Date.now() < slot)
      row.notes.push(
        `DEFECT: ${peer.label} exported ${date} ${Math.round((slot - Date.now()) / 1000)} s before its export time (its clock is ${peer.skewMin} min off)`,
      );
    return true;
  }
  if (r.status === 'skipped' || r.status === 'refused') {
    row.refused++;
    row.notes.push(`${peer.label} export of ${date}: ${String(r.reason).slice(0, 160)}`);
  } else row.notes.push(`${peer.label} export of ${date} failed: ${JSON.stringify(r).slice(0, 200)}`);
  return false;
}

/**
 * Export spans: the export time set 70-130 s ahead, so the process whose clock is 5 min ahead
 * thinks it has passed. It must not export the date early (rows written by the others until the
 * real export time would then be in no export). In the full run, the date is then exported at a
 * time just past, and the process 5 min behind writes after it: its rows must not land in the
 * span exported already.
 */
export async function exportSpans(c: SkewCtx): Promise<FaultResult> {
  const row = blank(SKEW_FAULTS[2] ?? '');
  const [a, b] = c.peers as [Peer, Peer];
  const behind = c.peers.find((p) => p.skewMin < 0);
  const k = c.chaos.quick ? 2 : 5;
  const slot = Math.ceil((Date.now() + 70_000) / 60_000) * 60_000;
  const date = dateOf(slot);
  // DAILY_EXPORT_TIME takes 06:00-22:00 only: by night no export time can be set a minute or two
  // ahead, so the row is not measured (and says so) rather than failing on a refused write.
  if (hhmm(slot) < EXPORT_HOURS.from || hhmm(slot) > EXPORT_HOURS.to) {
    row.notes.push(
      `not measured: DAILY_EXPORT_TIME takes ${EXPORT_HOURS.from}-${EXPORT_HOURS.to} and the next slot would be ${hhmm(slot)} UTC; run it by day`,
    );
    return row;
  }
  if (!(await exportTimeAt(c, a, slot))) row.notes.push('the processes did not all follow DAILY_EXPORT_TIME');
  await writes(row, a, k, 300);
  const early = await exportBy(row, b, date, slot);
  await exportBy(row, a, date, slot);
  await writes(row, a, k, 400);
  if (early) await exportBy(row, b, date, slot);

  const past = Math.floor((Date.now() - 2500) / 60_000) * 60_000;
  if (behind && dateOf(past) === date && (await exportTimeAt(c, a, past))) {
    await exportBy(row, a, date, past);
    await writes(row, behind, k, 500);
  }
  await accountExports(c, row);
  return row;
}

/**
 * Completed exports against the audit log: a date completed twice, or a row in two spans, is
 * a duplicate; a row in a completed span but not in its export is missing from the exports.
 */
async function accountExports(c: SkewCtx, row: FaultResult): Promise<void> {
  const done = await c.conn
    .collection('export_logs')
    .find({ status: 'completed', windowEnd: { $exists: true } })
    .sort({ windowStart: 1 })
    .toArray();
  const perDate = new Map<string, number>();
  for (const e of done) perDate.set(String(e.date), (perDate.get(String(e.date)) ?? 0) + 1);
  for (const [date, n] of perDate)
    if (n > 1) {
      row.duplicated += n - 1;
      row.notes.push(`DEFECT: ${date} exported ${n} times`);
    }
  const audit = c.conn.collection('config_audit_logs');
  let missing = 0;
  for (const [i, e] of done.entries()) {
    const span = { $gte: e.windowStart as Date, $lt: e.windowEnd as Date };
    const inSpan = await audit.countDocuments({ createdAt: span });
    const gap = inSpan - Number(e.auditRows ?? 0);
    if (gap > 0) {
      missing += gap;
      const late = await audit
        .find({ createdAt: span }, { projection: { 'actor.id': 1 } })
        .sort({ createdAt: -1 })
        .limit(gap)
        .toArray();
      const by = [
        ...new Set(
          late.map((l) => c.peers.find((p) => `chaos-${p.instanceId}` === l.actor?.id)?.label ?? '?'),
        ),
      ];
      row.notes.push(
        `DEFECT: ${gap} audit rows stamped inside the exported span of ${String(e.date)} were written after its export (by ${by.join(', ')}): they are in no export`,
      );
    }
    const next = done[i + 1];
    if (next && (next.windowStart as Date) < (e.windowEnd as Date)) {
      const overlap = await audit.countDocuments({
        createdAt: { $gte: next.windowStart as Date, $lt: e.windowEnd as Date },
      });
      row.duplicated += overlap;
      row.notes.push(
        `DEFECT: ${overlap} audit rows are in the exports of both ${String(e.date)} and ${String(next.date)}`,
      );
    }
  }
  row.auditMissing += missing;
  row.notes.push(`${done.length} completed exports; audit rows missing from their spans: ${missing}`);
}
