/**
 * The fault suite: the scenarios, run one after another within one time bound, their rows
 * judged (every must-be-zero figure zero, every chain check intact or not made) and printed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosContext, FaultResult, Scenario } from './types.js';
import { databaseScenario } from './database.js';
import { embeddedScenario } from './embedded.js';
import { killsScenario } from './kills.js';
import { discordRestScenario } from './discord-rest.js';
import { diskClockScenario } from './disk-clock.js';
import { failedRow } from './lib/row.js';
import { killAll, liveProcesses } from './lib/procs.js';

/** Every scenario, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
  databaseScenario,
  embeddedScenario,
  killsScenario,
  discordRestScenario,
  diskClockScenario,
];

/** Whether a row passes: nothing lost, duplicated, unaudited, unrepaired or shown as a stack; the chain not broken. */
export function rowPassed(r: FaultResult): boolean {
  return (
    r.versionsLost === 0 &&
    r.duplicated === 0 &&
    r.auditMissing === 0 &&
    r.stackTraces === 0 &&
    r.chainIntact !== false &&
    !r.unrepaired &&
    !r.failed
  );
}

export interface SuiteOptions {
  scenarios: readonly Scenario[];
  quick: boolean;
  /** The bound of the whole run. */
  seconds: number;
  workDir: string;
  log(line: string): void;
}

/**
 * Runs the scenarios in turn. A scenario that throws gives a failed row; one still running at
 * the bound is abandoned (its processes killed) and the rest are not started. Every process the
 * scenarios started is ended before this returns.
 */
export async function runSuite(o: SuiteOptions): Promise<FaultResult[]> {
  const deadline = Date.now() + o.seconds * 1000;
  const ctx: ChaosContext = { quick: o.quick, workDir: o.workDir, deadline, log: o.log };
  const rows: FaultResult[] = [];
  try {
    for (const s of o.scenarios) {
      // A scenario needs its processes started and a fault's worth of time at least.
      if (Date.now() > deadline - 45_000) {
        rows.push(
          failedRow(s.title, new Error(`not started: the run's bound of ${o.seconds} s was reached`)),
        );
        continue;
      }
      o.log(`${s.id}: ${s.title}`);
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'bound'>((resolve) => {
        timer = setTimeout(() => resolve('bound'), Math.max(0, deadline - Date.now() + 5000));
      });
      const got = await Promise.race([s.run(ctx).catch((err: unknown) => [failedRow(s.title, err)]), bound]);
      clearTimeout(timer);
      if (got === 'bound') {
        rows.push(failedRow(s.title, new Error(`stopped at the run's bound of ${o.seconds} s`)));
        killAll();
        continue;
      }
      rows.push(...got);
      o.log(`${s.id}: done in ${Math.round((Date.now() - started) / 1000)} s`);
      if (liveProcesses().length) {
        o.log(`${s.id}: left ${liveProcesses().length} process(es) running; ending them`);
        killAll();
        await sleep(200);
      }
    }
  } finally {
    killAll();
  }
  return rows;
}

const yesNo = (v: boolean | null) => (v === null ? '-' : v ? 'yes' : 'NO');

/** The table as Markdown (what the README shows), notes numbered under it. */
export function table(rows: readonly FaultResult[]): string {
  const head = [
    'Fault',
    'Attempted',
    'Succeeded',
    'Refused (clear)',
    'Lost',
    'Duplicated',
    'Audit missing',
    'Unrepaired',
    'Chain intact',
    'Recovery (ms)',
    'Stack traces',
  ];
  const notes: string[] = [];
  const body = rows.map((r) => {
    const marks = r.notes.map((n) => (notes.push(n), `[${notes.length}]`)).join('');
    return [
      `${r.fault}${marks ? ` ${marks}` : ''}`,
      String(r.attempted),
      String(r.succeeded),
      String(r.refused),
      String(r.versionsLost),
      String(r.duplicated),
      String(r.auditMissing),
      String(r.unrepaired ?? 0),
      yesNo(r.chainIntact),
      r.recoverMs === null ? '-' : String(r.recoverMs),
      String(r.stackTraces),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(head), rule, ...body.map(line), '', ...notes.map((n, i) => `[${i + 1}] ${n}`)].join('\n');
}
