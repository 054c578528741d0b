/**
 * The shape every fault follows: load starts, the fault is injected once the load is under way,
 * the fault ends, the time to the first successful write is measured, the load goes on a little,
 * stops, and the database is judged once the processes had time to repair.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosContext, FaultResult } from '../types.js';
import type { Cluster } from './cluster.js';
import { Load, type WriteSlot } from './load.js';
import { faultRow, settled } from './row.js';

/** The load's writes: client i has an environment slot of its own, and all share one global key. */
export function loadSlots(client: number): WriteSlot[] {
  const env = `env:e${(client % 8) + 1}`;
  return [
    { key: 'MAX_BATCH_SIZE', scope: env, value: (n) => 10 + ((n * 37 + client) % 990) },
    { key: 'IMMEDIATE_EXPORT_BUFFER', scope: 'global', value: (n) => (n * 13 + client) % 121 },
  ];
}

export interface Phases {
  fault: string;
  /** Operations at most, and the time the fault is planned to take (load pacing). */
  ops: number;
  plannedMs: number;
  clients: number;
  /** Injects the fault and resolves when it is over: returns when it ended (ms since the epoch). */
  inject(load: Load): Promise<number>;
  /** How long to wait for the first successful write after the fault. */
  recoverWithinMs: number;
  /** How long to let the processes repair after the load stops. */
  settleMs: number;
  notes?: () => string[];
  /** Stack lines shown to users outside the HTTP answers (a script's output). */
  shownStacks?: () => number;
  /** Writes made by the fault's own processes (an import run again), added to the load's. */
  writes?: () => { attempted: number; succeeded: number; refused: number };
  /** What the fault left broken that the database does not show (a server left running). */
  leftBroken?: () => number;
}

/** What a fault runs against: API processes, a token for them, the database they use. */
export type LoadTarget = Pick<Cluster, 'urls' | 'token' | 'uri' | 'dbName' | 'logStacks'>;

/** Runs one fault under load against a cluster and returns its row. */
export async function underLoad(ctx: ChaosContext, c: LoadTarget, p: Phases): Promise<FaultResult> {
  const tag = p.fault.replace(/[^a-z]+/gi, '').slice(0, 12) + Date.now().toString(36);
  const load = new Load({
    targets: () => c.urls(),
    token: c.token,
    clients: p.clients,
    ops: p.ops,
    // Spread over the planned time, so that the fault falls in the middle of the load.
    paceMs: Math.max(5, Math.round((p.clients * p.plannedMs) / p.ops)),
    stopAt: Math.min(ctx.deadline - 30_000, Date.now() + p.plannedMs * 4 + 60_000),
    slots: loadSlots,
    writeShare: 0.5,
    tag,
  });
  let recoverMs: number | null = null;
  const stacksBefore = c.logStacks();
  const began = Date.now();
  try {
    await load.reached(Math.round(p.ops * 0.2));
    ctx.log(`  ${p.fault}: injecting after ${load.started} operations`);
    const ended = await p.inject(load);
    recoverMs = await load.recovered(ended, p.recoverWithinMs);
    ctx.log(
      `  ${p.fault}: over; first successful write ${recoverMs === null ? 'never came' : `after ${recoverMs} ms`}`,
    );
    // The rest of the load after the recovery, as planned (writes then repair what the fault left).
    const rest = ctx.quick ? 1000 : Math.max(2000, began + p.plannedMs * 1.3 - Date.now());
    await Promise.race([load.done, sleep(rest)]);
  } finally {
    await load.stop();
  }
  const settledAcc = await settled(c.uri, c.dbName, load.tally.acks, p.settleMs);
  const acc = { ...settledAcc, unrepaired: settledAcc.unrepaired + (p.leftBroken?.() ?? 0) };
  const own = p.writes?.() ?? { attempted: 0, succeeded: 0, refused: 0 };
  const t = load.tally;
  return faultRow({
    fault: p.fault,
    tally: {
      ...t,
      attempted: t.attempted + own.attempted,
      succeeded: t.succeeded + own.succeeded,
      refused: t.refused + own.refused,
    },
    acc,
    // The short run checks the chain once per scenario (runSteps).
    uriWithDb: ctx.quick ? undefined : c.uri,
    recoverMs,
    shownStacks: p.shownStacks?.() ?? 0,
    logStacks: c.logStacks() - stacksBefore,
    notes: [
      ...(p.notes?.() ?? []),
      ...(recoverMs === null
        ? [`no write succeeded within ${p.recoverWithinMs / 1000} s of the fault's end`]
        : []),
    ],
    failed: recoverMs === null,
  });
}
