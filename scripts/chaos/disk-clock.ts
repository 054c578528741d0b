/**
 * The fault suite's DATA_DIR and clock faults (issue #25): DATA_DIR full, DATA_DIR read-only,
 * and two processes whose clocks disagree by minutes (leases and job runs, scheduled changes and
 * temporary values, export spans). Each runs its own API or bot-like processes against a
 * FerretDB of its own, on loopback, and undoes every process, mount and file it made.
 *
 * Standalone: node --conditions=config-bot-source --import tsx scripts/chaos/disk-clock.ts [--quick] [disk|skew]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ferretUnavailable, startPrivateDb } from './lib/ferret.js';
import type { ChaosContext, FaultResult, Scenario } from './types.js';
import { notMeasured } from './disk-clock/accounting.js';
import { diskRows, FULL, READ_ONLY, type SharedDb } from './disk-clock/disk.js';
import { SKEW_FAULTS } from './disk-clock/peers.js';
import { skewRows } from './disk-clock/skew.js';
import { ROOT, unmountUnder } from './disk-clock/common.js';
import { killAll } from './lib/procs.js';
import { failedRow } from './lib/row.js';

type Part = 'disk' | 'skew';
const PARTS: Record<
  Part,
  { faults: string[]; run: (ctx: ChaosContext, db: SharedDb) => Promise<FaultResult[]> }
> = {
  disk: { faults: [FULL, READ_ONLY], run: diskRows },
  skew: { faults: SKEW_FAULTS, run: skewRows },
};

/**
 * Runs the parts at once, each on a FerretDB of its own (the DATA_DIR faults kill theirs for an
 * outage), so the scenario takes as long as its longest part.
 */
async function runParts(ctx: ChaosContext, parts: Part[]): Promise<FaultResult[]> {
  const unavailable = ferretUnavailable();
  const results = await Promise.all(
    parts.map(async (part): Promise<FaultResult[]> => {
      const { faults, run } = PARTS[part];
      if (unavailable) return faults.map((f) => notMeasured(f, unavailable));
      const dbDir = path.join(ctx.workDir, `db-${part}`);
      mkdirSync(dbDir, { recursive: true });
      const started = Date.now();
      const server = await startPrivateDb(dbDir).catch((err: unknown) => err as Error);
      if (server instanceof Error) return faults.map((f) => failedRow(f, server));
      try {
        return await run(ctx, { uri: server.uri, server });
      } catch (err) {
        // A part that fails leaves the other to finish: its own rows say what failed.
        return faults.map((f) => failedRow(f, err));
      } finally {
        await server.stop();
        ctx.log(`${part}: ${Date.now() - started} ms`);
      }
    }),
  );
  return results.flat();
}

export const diskClockScenario: Scenario = {
  id: 'disk-clock',
  title: 'DATA_DIR full or read-only; clocks of two processes minutes apart',
  run: (ctx) => runParts(ctx, ['disk', 'skew']),
};

/** Runs the scenario alone and prints its rows as JSON (the runner, scripts/chaos.ts, prints the table). */
async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = process.argv.slice(2).filter((a): a is Part => a in PARTS);
  const workDir = mkdtempSync(path.join(tmpdir(), 'chaos-disk-clock-'));
  const started = Date.now();
  try {
    const rows = await runParts(
      {
        quick,
        workDir,
        deadline: Date.now() + (quick ? 30_000 : 120_000),
        log: (line) => process.stderr.write(`[disk-clock] ${line}\n`),
      },
      only.length ? only : ['disk', 'skew'],
    );
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    process.stderr.write(`[disk-clock] done in ${Date.now() - started} ms\n`);
  } finally {
    killAll();
    await unmountUnder(workDir);
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.chdir(ROOT);
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
