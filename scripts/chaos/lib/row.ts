/**
 * From a fault's load and the database afterwards to one row of the table; and the wait for a
 * system to finish repairing itself before it is judged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosContext, FaultResult } from '../types.js';
import { account, chainIntact, type Accounting } from './accounting.js';
import type { Ack, Tally } from './load.js';

/** A value for the short run or the full one. */
export const pick = <T>(quick: boolean, short: T, full: T): T => (quick ? short : full);

/** A random whole number from `min` to `max`. */
export const between = (min: number, max: number): number =>
  min + Math.floor(Math.random() * (max - min + 1));

/**
 * Accounts the database until nothing is left half done (repair runs in the processes: at start,
 * on the next write, after an outage) or `settleMs` passes; the last accounting is returned, with
 * how long the repair took.
 */
export async function settled(
  uri: string,
  dbName: string,
  acks: readonly Ack[],
  settleMs: number,
): Promise<Accounting & { settleMs: number }> {
  const started = Date.now();
  for (;;) {
    const acc = await account(uri, dbName, acks);
    const waited = Date.now() - started;
    if ((acc.unrepaired === 0 && acc.auditMissing === 0) || waited >= settleMs)
      return { ...acc, settleMs: waited };
    await sleep(500);
  }
}

export interface RowInput {
  fault: string;
  tally: Tally;
  acc: Accounting & { settleMs?: number };
  /** The database with its name, for the chain check; undefined: checked later, once for the scenario. */
  uriWithDb: string | undefined;
  recoverMs: number | null;
  /** Stack lines shown to users besides the HTTP answers (a script's or a console's output). */
  shownStacks?: number;
  /** Stack lines in the servers' own logs (operators', not users'): said in a note. */
  logStacks?: number;
  notes?: string[];
  /** The fault did not end as it should (no recovery): the row fails whatever its figures. */
  failed?: boolean;
}

/** One row of the table. */
export async function faultRow(r: RowInput): Promise<FaultResult> {
  const notes = [...(r.notes ?? [])];
  const t = r.tally;
  if (t.unanswered)
    notes.push(`${t.unanswered} requests got no answer (connection refused or cut: a process was down)`);
  if (t.other)
    notes.push(`${t.other} answers were neither a success nor a clear refusal: ${t.samples.join(' | ')}`);
  if (r.acc.settleMs && r.acc.settleMs >= 1000)
    notes.push(`repair finished ${Math.round(r.acc.settleMs / 100) / 10} s after the load stopped`);
  notes.push(...r.acc.notes);
  if (r.logStacks) notes.push(`${r.logStacks} stack frame lines in the servers' logs (not shown to users)`);
  const chain = r.uriWithDb === undefined ? null : await chainIntact(r.uriWithDb, notes);
  return {
    fault: r.fault,
    attempted: t.attempted,
    succeeded: t.succeeded,
    refused: t.refused,
    versionsLost: r.acc.versionsLost,
    duplicated: r.acc.duplicated,
    auditMissing: r.acc.auditMissing,
    chainIntact: chain,
    recoverMs: r.recoverMs,
    stackTraces: t.stackTraces + (r.shownStacks ?? 0),
    notes,
    unrepaired: r.acc.unrepaired,
    unanswered: t.unanswered,
    otherAnswers: t.other,
    ...(r.failed ? { failed: true } : {}),
  };
}

/** A row with nothing counted yet. */
export const blank = (fault: string): FaultResult => ({
  fault,
  attempted: 0,
  succeeded: 0,
  refused: 0,
  versionsLost: 0,
  duplicated: 0,
  auditMissing: 0,
  chainIntact: null,
  recoverMs: null,
  stackTraces: 0,
  notes: [],
});

/** A row for a fault that could not be run to the end (the scenario failed): counted as a failure. */
export function failedRow(fault: string, err: unknown): FaultResult {
  const message = err instanceof Error ? err.message : String(err);
  return { ...blank(fault), failed: true, notes: [`did not run to the end: ${message.split('\n')[0]}`] };
}

/** A fault of a scenario: its name (the row's) and how to run it. */
export type Step = readonly [fault: string, run: () => Promise<FaultResult>];

/**
 * Runs a scenario's faults in turn (those `ctx.select` accepts): a fault that throws gives a
 * failed row, and one there is no time left for is not started. `after` runs after each one.
 */
export async function runSteps(
  ctx: ChaosContext,
  steps: readonly Step[],
  o: { after?: () => Promise<void>; chainUri?: () => string } = {},
): Promise<FaultResult[]> {
  const rows: FaultResult[] = [];
  for (const [fault, run] of steps) {
    if (ctx.select && !ctx.select(fault)) continue;
    if (Date.now() > ctx.deadline - 30_000) {
      rows.push(failedRow(fault, new Error('no time left before the run’s bound')));
      continue;
    }
    rows.push(await run().catch((err: unknown) => failedRow(fault, err)));
    await o.after?.();
  }
  // The short run checks the chain once, after its last fault: it covers every row before it.
  const last = rows.at(-1);
  if (ctx.quick && o.chainUri && last) {
    const intact = await chainIntact(o.chainUri(), last.notes);
    for (const r of rows) if (!r.failed) r.chainIntact = intact;
  }
  return rows;
}
