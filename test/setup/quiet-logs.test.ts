import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs');

/** Runs vitest, as `npm test` does, on the probe file alone; what it printed on stderr. */
function runProbe(): Promise<{ code: number; stderr: string }> {
  // The worker this test runs in says so in its environment; the nested run must not inherit that.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [VITEST, 'run', '--config', 'test/setup/fixtures/quiet-probe.config.ts', '--reporter=dot'],
      { cwd: ROOT, env: { ...env, NO_COLOR: '1' }, timeout: 60_000 },
      (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) || 1 : 0, stderr }),
    );
  });
}

describe('the test suite', () => {
  it("prints nothing of a passing test's log and warnings, and all of a failing one's", async () => {
    const { code, stderr } = await runProbe();
    expect(code).toBe(1);
    expect(stderr).not.toContain('probe: logged by the passing test');
    expect(stderr).not.toContain('probe: read back by its test');
    expect(stderr).not.toContain('probe: warned by the passing test');
    expect(stderr).toContain('(node) ProbeWarning: probe: warned by the failing test');
    expect(stderr).toMatch(
      /output of the failed test "[^"]*fails"[^\n]*\n.*probe: logged by the failing test/,
    );
    // The failure's context: what the file logged before its tests.
    expect(stderr).toContain('probe: logged by beforeAll');
  });
});
