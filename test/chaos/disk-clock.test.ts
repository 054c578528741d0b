import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskClockScenario } from '../../scripts/chaos/disk-clock.js';
import { unmountUnder } from '../../scripts/chaos/disk-clock/common.js';
import { VERIFY_SCRIPT } from '../../scripts/chaos/lib/accounting.js';
import { ferretUnavailable } from '../../scripts/chaos/lib/ferret.js';
import { killAll, liveProcesses, ROOT } from '../../scripts/chaos/lib/procs.js';
import { table } from '../../scripts/chaos/suite.js';
import { keep } from '../setup/test-output.js';

// The short version of the DATA_DIR and clock faults of `npm run chaos`: an API process whose
// DATA_DIR is full (a 64 KiB tmpfs: root only) and then read-only, through a database outage;
// bot-like processes with clocks 5 minutes apart (libfaketime, or a Date-shifting preload).
describe('the fault suite, short: DATA_DIR full or read-only, clocks 5 minutes apart', () => {
  it(
    'loses, duplicates or leaves unaudited nothing, keeps its leases, exports no date early, and shows no stack trace',
    { timeout: 120_000 },
    async (t) => {
      const missing = ferretUnavailable();
      if (missing) {
        process.stderr.write(
          `disk-clock chaos test SKIPPED: it starts FerretDB servers of its own, and there is ${missing}\n`,
        );
        t.skip();
        return;
      }
      const workDir = mkdtempSync(path.join(tmpdir(), 'config-bot-chaos-disk-'));
      try {
        const rows = await diskClockScenario.run({
          quick: true,
          workDir,
          deadline: Date.now() + 110_000,
          log: (line) => keep(`[chaos] ${line}\n`),
        });
        keep(`${table(rows)}\n`);
        expect(rows).toHaveLength(5);
        const verifier = existsSync(path.join(ROOT, VERIFY_SCRIPT));
        for (const r of rows) {
          const skipped = r.notes.find((n) => n.startsWith('not measured'));
          if (skipped) {
            // A full disk needs a tmpfs mount, which needs root.
            process.stderr.write(`disk-clock chaos test: row "${r.fault}" SKIPPED (${skipped})\n`);
            continue;
          }
          const figures = {
            failed: r.failed ?? false,
            versionsLost: r.versionsLost,
            duplicated: r.duplicated,
            auditMissing: r.auditMissing,
            stackTraces: r.stackTraces,
            chainIntact: r.chainIntact,
            defects: r.notes.filter((n) => n.startsWith('DEFECT:')),
          };
          expect(figures, `${r.fault}: ${r.notes.join(' | ')}`).toEqual({
            failed: false,
            versionsLost: 0,
            duplicated: 0,
            auditMissing: 0,
            stackTraces: 0,
            chainIntact: verifier ? true : null,
            defects: [],
          });
          expect(r.succeeded).toBeGreaterThan(0);
        }
        expect(liveProcesses()).toEqual([]);
      } finally {
        killAll();
        await unmountUnder(workDir);
        rmSync(workDir, { recursive: true, force: true });
      }
    },
  );
});
