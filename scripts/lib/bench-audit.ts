import { performance } from 'node:perf_hooks';
import mongoose, { type Connection } from 'mongoose';
import type { ConfigService } from '../../src/config/service.js';
import { AuditChain } from '../../src/storage/audit-chain.js';
import { rowHash } from '../../src/storage/audit-hash.js';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

/**
 * The audit chain's two costs: appending a row through the real write path (one process, rows
 * one after another), and verifying a long chain. The long chain is built directly (rows hashed
 * and linked exactly as appends link them, inserted in batches), since appending 100,000 rows one
 * by one would measure the database's insert rate rather than the verifier.
 */
export async function benchAudit(
  config: ConfigService,
  conn: Connection,
  rows: number,
): Promise<Record<string, number>> {
  const actor = { id: '100000000000000001', tag: 'bench' };
  const appendMs: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    await config.audit.record({ key: 'BENCH_WRITER_0', action: 'view', status: 'success', actor });
    appendMs.push(performance.now() - s);
  }
  const collection = conn.collection('config_audit_logs');
  let head = await new AuditChain(collection).readHead();
  const base = Date.now();
  for (let done = 0; done < rows;) {
    const batch: Record<string, unknown>[] = [];
    for (; batch.length < 5000 && done < rows; done++) {
      const row: Record<string, unknown> = {
        _id: new mongoose.Types.ObjectId(),
        key: 'BENCH_WRITER_0',
        action: 'set',
        status: 'success',
        oldValue: done,
        newValue: done + 1,
        version: done + 1,
        actor,
        reason: `bench row ${done}`,
        createdAt: new Date(base + done),
        seq: head.seq + 1,
        prevHash: head.hash,
        prevId: head.id,
      };
      row.hash = rowHash(row);
      head = { seq: row.seq as number, hash: row.hash as string, id: String(row._id) };
      batch.push(row);
    }
    await collection.insertMany(batch, { ordered: true });
  }
  const s = performance.now();
  const report = await config.trail.verify();
  const verifyMs = performance.now() - s;
  if (!report.intact) throw new Error(`the bench's own chain did not verify: ${report.breaks[0]?.kind}`);
  return {
    audit_append_ms_p50: pct(appendMs, 50),
    audit_append_ms_p99: pct(appendMs, 99),
    audit_verify_rows: report.rowsChecked,
    audit_verify_ms: verifyMs,
    audit_verify_rows_per_s: Math.round(report.rowsChecked / (verifyMs / 1000)),
  };
}
