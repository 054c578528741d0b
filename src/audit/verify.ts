import type { KeyObject } from 'node:crypto';
import { UserError } from '../base/errors.js';
import type { AuditChain, ChainedRow } from '../storage/audit-chain.js';
import type { AuditCheckpoints, CheckpointDoc } from '../storage/audit-checkpoints.js';
import { CHAIN_START, rowHash } from '../storage/audit-hash.js';
import { checkpointText } from './checkpoints.js';
import { verifyText } from './signing.js';

/**
 * What broke, for one row or checkpoint:
 * - `edited`: the row's content no longer gives its hash, or it was rewritten with a new hash
 *   (the row after it recorded another);
 * - `missing`: rows absent from their places (deleted); `id` is the deleted row's, as the row
 *   after it recorded;
 * - `inserted`: a row with no place in the chain, or a second row at one place;
 * - `checkpoint-forged`: a checkpoint whose signature does not verify;
 * - `checkpoint-untrusted`: a checkpoint signed by a key nobody said to trust;
 * - `checkpoint-mismatch`: the chain's row at a checkpoint's place is not the one signed (the
 *   chain was rewritten from there back);
 * - `truncated`: a checkpoint covers rows past the chain's end (rows deleted from the end).
 */
export type BreakKind =
  | 'edited'
  | 'missing'
  | 'inserted'
  | 'checkpoint-forged'
  | 'checkpoint-untrusted'
  | 'checkpoint-mismatch'
  | 'truncated';

export interface ChainBreak {
  kind: BreakKind;
  /** The row's place (for `missing`, the first missing place). */
  seq?: number;
  /** For `missing`: the last missing place. */
  toSeq?: number;
  /** The row's id (for `missing`, the deleted row's, when one row is missing). */
  id?: string;
  /** For checkpoint breaks: the checkpoint's time and where it came from. */
  checkpoint?: { at: Date; kind: CheckpointDoc['kind']; source: 'database' | 'file' };
}

/**
 * The rows a check covers, as a surface read them (either end may be left open): refused with
 * one sentence when `from` is after `to`, so every surface words it alike.
 */
export function verifyRange(
  from: number | undefined,
  to: number | undefined,
): { from?: number; to?: number } {
  if (from !== undefined && to !== undefined && from > to)
    throw new UserError('INVALID_VALUE', `from (${from}) is after to (${to}): nothing was checked.`);
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

export interface VerifyOptions {
  /** First place to check (default 1). */
  from?: number;
  /** Last place to check (default the chain's end). */
  to?: number;
  /** Public keys by id whose signatures are trusted. */
  trusted: ReadonlyMap<string, KeyObject>;
  /** Checkpoints kept outside the database (a file), checked like stored ones. */
  external?: readonly CheckpointDoc[];
  /** Breaks listed at most (the rest are counted). Default 100. */
  maxBreaks?: number;
}

export interface ChainReport {
  from: number;
  to: number;
  /** The chain's last place. */
  headSeq: number;
  rowsChecked: number;
  /** Of the rows checked, those written before the chain and sealed into it late. */
  legacyRows: number;
  checkpointsChecked: number;
  /** Checkpoints made while no signing key was set: they prove nothing and are only counted. */
  unsignedCheckpoints: number;
  /** Signed checkpoints left unchecked because the verifier was given no public key at all. */
  uncheckedCheckpoints: number;
  genesis?: CheckpointDoc;
  breaks: ChainBreak[];
  /** Breaks found past maxBreaks. */
  moreBreaks: number;
  intact: boolean;
}

interface Checked {
  doc: CheckpointDoc;
  source: 'database' | 'file';
}

/**
 * Walks the chain in order and checks every row's hash and link, the places for gaps and
 * doubles, rows outside the chain, and every checkpoint (stored and given): its signature by a
 * trusted key, and the chain's row at its place. Reads rows in batches; memory stays flat.
 */
export async function verifyChain(
  chain: AuditChain,
  checkpoints: AuditCheckpoints,
  opts: VerifyOptions,
): Promise<ChainReport> {
  const max = opts.maxBreaks ?? 100;
  // The whole chain: walked to its last row (a read of the newest row first would scan the
  // collection on FerretDB). A range: up to `to`, within the head the marker knows.
  const from = Math.max(1, opts.from ?? 1);
  const whole = opts.to === undefined && from === 1;
  const marked = whole ? undefined : (await chain.markedHead()).seq;
  const to = marked === undefined ? Number.MAX_SAFE_INTEGER : Math.min(opts.to ?? marked, marked);
  const genesis = await checkpoints.genesis();
  const report: ChainReport = {
    from,
    to,
    headSeq: marked ?? 0,
    rowsChecked: 0,
    legacyRows: 0,
    checkpointsChecked: 0,
    unsignedCheckpoints: 0,
    uncheckedCheckpoints: 0,
    ...(genesis ? { genesis } : {}),
    breaks: [],
    moreBreaks: 0,
    intact: true,
  };
  const add = (b: ChainBreak) => {
    report.intact = false;
    if (report.breaks.length < max) report.breaks.push(b);
    else report.moreBreaks++;
  };

  // Checkpoints first: only those with a valid, trusted signature vouch for a row.
  const bySeq = new Map<number, Checked[]>();
  const vouching: Checked[] = [];
  const all: Checked[] = [
    ...(await checkpoints.all()).map((doc) => ({ doc, source: 'database' as const })),
    ...(opts.external ?? []).map((doc) => ({ doc, source: 'file' as const })),
  ];
  for (const c of all) {
    const where = { at: c.doc.at, kind: c.doc.kind, source: c.source };
    if (!c.doc.signature || !c.doc.keyId) {
      report.unsignedCheckpoints++;
      continue;
    }
    // No key at all (a verifier run without AUDIT_SIGNING_KEY or --public-key): nothing to check
    // a signature against, which is not the same as a signature that fails.
    if (opts.trusted.size === 0) {
      report.uncheckedCheckpoints++;
      continue;
    }
    const key = opts.trusted.get(c.doc.keyId);
    if (!key) {
      add({ kind: 'checkpoint-untrusted', seq: c.doc.seq, checkpoint: where });
      continue;
    }
    if (!verifyText(key, checkpointText(c.doc), c.doc.signature)) {
      add({ kind: 'checkpoint-forged', seq: c.doc.seq, checkpoint: where });
      continue;
    }
    report.checkpointsChecked++;
    vouching.push(c);
    if (c.doc.seq === 0 && c.doc.hash !== CHAIN_START)
      add({ kind: 'checkpoint-mismatch', seq: 0, checkpoint: where });
    else if (c.doc.seq >= from && c.doc.seq <= to) bySeq.set(c.doc.seq, [...(bySeq.get(c.doc.seq) ?? []), c]);
  }

  let prev: ChainedRow | undefined = from > 1 ? await chain.at(from - 1) : undefined;
  let expected = from;
  let prevEdited = false;
  for await (const batch of chain.inOrder(from, to)) {
    for (const row of batch) {
      const id = String(row._id);
      if (row.seq < expected) {
        // A second row at a place taken already (possible only with the unique index dropped).
        add({ kind: 'inserted', seq: row.seq, id });
        continue;
      }
      if (row.seq > expected) {
        add({
          kind: 'missing',
          seq: expected,
          toSeq: row.seq - 1,
          ...(row.seq === expected + 1 && row.prevId ? { id: row.prevId } : {}),
        });
        prev = undefined;
      }
      const edited = rowHash(row) !== row.hash;
      if (edited) add({ kind: 'edited', seq: row.seq, id });
      else if (prev && row.prevHash !== prev.hash && !prevEdited)
        add({ kind: 'edited', seq: prev.seq, id: String(prev._id) });
      else if (row.seq === 1 && row.prevHash !== CHAIN_START) add({ kind: 'edited', seq: 1, id });
      for (const c of bySeq.get(row.seq) ?? [])
        if (c.doc.hash !== row.hash)
          add({
            kind: 'checkpoint-mismatch',
            seq: row.seq,
            id,
            checkpoint: { at: c.doc.at, kind: c.doc.kind, source: c.source },
          });
      if (row.legacy === true) report.legacyRows++;
      report.rowsChecked++;
      prev = row;
      prevEdited = edited;
      expected = row.seq + 1;
    }
  }
  if (whole) {
    report.headSeq = report.to = expected - 1;
    // Signed for rows past the end: rows were cut from it.
    for (const c of vouching)
      if (c.doc.seq > report.headSeq)
        add({
          kind: 'truncated',
          seq: report.headSeq + 1,
          toSeq: c.doc.seq,
          checkpoint: { at: c.doc.at, kind: c.doc.kind, source: c.source },
        });
  } else if (expected <= to) add({ kind: 'missing', seq: expected, toSeq: to });

  // Rows outside the chain: written around it once it began (before, they are waiting to be sealed).
  if (genesis) for (const r of await chain.unchained(max + 1)) add({ kind: 'inserted', id: r.id });
  return report;
}
