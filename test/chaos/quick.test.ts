import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseScenario } from '../../scripts/chaos/database.js';
import { killsScenario, WRITE } from '../../scripts/chaos/kills.js';
import { VERIFY_SCRIPT } from '../../scripts/chaos/lib/accounting.js';
import { ferretUnavailable } from '../../scripts/chaos/lib/ferret.js';
import { killAll, liveProcesses, ROOT } from '../../scripts/chaos/lib/procs.js';
import { table } from '../../scripts/chaos/suite.js';
import type { ChaosContext } from '../../scripts/chaos/types.js';
import { keep } from '../setup/test-output.js';

// The short version of `npm run chaos`: the database SIGKILLed and SIGSTOPped under load, and an
// API process SIGKILLed in the middle of writes and started again, on a private FerretDB of each
// (the two at once, to keep the suite's time). The embedded database's restarts, the import and
// the request apply cut, and Discord's and the disk's faults are in `npm run chaos -- --quick`.
describe('the fault suite, short (npm run chaos -- --quick, database and a process kill)', () => {
  it(
    'loses, duplicates, leaves unaudited or half done nothing, and shows no stack trace',
    { timeout: 120_000 },
    async (t) => {
      const missing = ferretUnavailable();
      if (missing) {
        process.stderr.write(
          `chaos quick test SKIPPED: it starts database servers of its own, and there is ${missing}\n`,
        );
        t.skip();
        return;
      }
      const workDir = mkdtempSync(path.join(tmpdir(), 'config-bot-chaos-test-'));
      const ctx: ChaosContext = {
        quick: true,
        workDir,
        deadline: Date.now() + 110_000,
        log: (line) => keep(`[chaos] ${line}\n`),
      };
      try {
        const rows = (
          await Promise.all([
            databaseScenario.run(ctx),
            killsScenario.run({ ...ctx, select: (fault) => fault === WRITE }),
          ])
        ).flat();
        keep(`${table(rows)}\n`);
        expect(rows.map((r) => r.fault)).toHaveLength(3);
        // While scripts/audit-verify.ts is absent, the chain is not checked (null): said in the table.
        const verifier = existsSync(path.join(ROOT, VERIFY_SCRIPT));
        for (const r of rows) {
          const figures = {
            failed: r.failed ?? false,
            versionsLost: r.versionsLost,
            duplicated: r.duplicated,
            auditMissing: r.auditMissing,
            unrepaired: r.unrepaired ?? 0,
            stackTraces: r.stackTraces,
            chainIntact: r.chainIntact,
            recovered: r.recoverMs !== null,
          };
          expect(figures, `${r.fault}: ${r.notes.join(' | ')}`).toEqual({
            failed: false,
            versionsLost: 0,
            duplicated: 0,
            auditMissing: 0,
            unrepaired: 0,
            stackTraces: 0,
            chainIntact: verifier ? true : null,
            recovered: true,
          });
          expect(r.succeeded).toBeGreaterThan(0);
        }
        expect(liveProcesses()).toEqual([]);
      } finally {
        killAll();
        rmSync(workDir, { recursive: true, force: true });
      }
    },
  );
});
