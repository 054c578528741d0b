/**
 * What survived, read from the database afterwards: each acknowledged write's version, each
 * attempt's audit row, duplicates of either, and whether the audit chain verifies.
 */
import type { Connection } from 'mongoose';
import { chainIntact } from '../lib/accounting.js';
import { blank } from '../lib/row.js';
import type { FaultResult } from '../types.js';

/** One write attempt through the API, tagged by its reason so its version and audit row can be found. */
export interface Attempt {
  tag: string;
  /** HTTP status (0: no answer). */
  status: number;
  /** The version the answer acknowledged (2xx only). */
  version?: number;
  /** A refusal with a code and a plain message. */
  plain: boolean;
}

export interface Ledger {
  attempted: number;
  succeeded: number;
  refused: number;
  stackTraces: number;
  writes: Attempt[];
  /** Answers that were neither a success nor a plain refusal (kept for the notes, at most 3). */
  odd: string[];
}

export const newLedger = (): Ledger => ({
  attempted: 0,
  succeeded: 0,
  refused: 0,
  stackTraces: 0,
  writes: [],
  odd: [],
});

export interface Survival {
  versionsLost: number;
  duplicated: number;
  auditMissing: number;
}

/**
 * Every acknowledged write must have its version (with its tag) in the database, and every
 * answered attempt an audit row with its tag; a tag on two versions or two audit rows of the same
 * status is a duplicate. Attempts that got no answer at all may have happened or not.
 */
export async function survival(conn: Connection, writes: readonly Attempt[]): Promise<Survival> {
  const tags = writes.map((w) => w.tag);
  const versions = await conn
    .collection('config_versions')
    .find({ reason: { $in: tags } }, { projection: { reason: 1, version: 1 } })
    .toArray();
  const audits = await conn
    .collection('config_audit_logs')
    .find({ reason: { $in: tags } }, { projection: { reason: 1, status: 1 } })
    .toArray();
  const count = <T>(items: T[], by: (t: T) => string) => {
    const m = new Map<string, number>();
    for (const i of items) m.set(by(i), (m.get(by(i)) ?? 0) + 1);
    return m;
  };
  const versionsByTag = count(versions, (v) => String(v.reason));
  const auditsByTag = count(audits, (a) => String(a.reason));
  const auditsByTagStatus = count(audits, (a) => `${String(a.reason)}|${String(a.status)}`);
  let versionsLost = 0;
  let auditMissing = 0;
  for (const w of writes) {
    if (w.version !== undefined && !versions.some((v) => v.reason === w.tag && v.version === w.version))
      versionsLost++;
    if ((w.status >= 200 && w.status < 300) || w.plain) if (!auditsByTag.get(w.tag)) auditMissing++;
  }
  const extra = (m: Map<string, number>) => [...m.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);
  return { versionsLost, duplicated: extra(versionsByTag) + extra(auditsByTagStatus), auditMissing };
}

/** How many of `writes` have an audit row yet (waiting for queued rows to be written). */
export async function audited(conn: Connection, writes: readonly Attempt[]): Promise<number> {
  const tags = writes.filter((w) => w.status > 0).map((w) => w.tag);
  const rows = await conn.collection('config_audit_logs').distinct('reason', { reason: { $in: tags } });
  return rows.length;
}

/** Whether the audit chain of `dbName` verifies (scripts/audit-verify.ts; null: not checked). */
export async function chainOf(uri: string, dbName: string, notes: string[]): Promise<boolean | null> {
  const intact = await chainIntact(`${uri}${dbName}`, notes);
  if (intact === null && !notes.some((n) => n.includes('audit-verify')))
    notes.push('audit chain not checked: no verifier (scripts/audit-verify.ts)');
  return intact;
}

export { blank };

/** A row for a fault this machine cannot produce: nothing measured, the reason stated. */
export function notMeasured(fault: string, reason: string): FaultResult {
  return { ...blank(fault), notes: [`not measured: ${reason}`] };
}
