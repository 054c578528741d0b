import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { env } from '../../src/app/env.js';
import { findFerretdb, freePort, startFerretdb } from '../../src/storage/embedded.js';
import { waitForPort } from '../../scripts/chaos/lib/ferret.js';

/** A FerretDB on `dir`'s files as the embedded database starts one, recorded as owned by `owner`. */
async function serverOwnedBy(bin: string, dir: string, owner: number): Promise<ChildProcess> {
  const port = await freePort();
  const proc = spawn(
    bin,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      `--state-dir=${dir}`,
      '--log-level=error',
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port, 20_000);
  writeFileSync(path.join(dir, `ferretdb-${proc.pid}.owner`), `${owner}\n`);
  return proc;
}

const running = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;

describe('embedded FerretDB left behind by a process killed without notice (found by npm run chaos)', () => {
  it('is stopped when the next server starts on its files; one whose owner still runs is left alone', async (ctx) => {
    const { FERRETDB_PATH, PATH } = env();
    const bin = findFerretdb(FERRETDB_PATH, PATH);
    if (!bin) {
      process.stderr.write('embedded leftover test SKIPPED: no ferretdb binary (npm run db:ferretdb)\n');
      ctx.skip();
      return;
    }
    const dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-leftover-'));
    const dir = path.join(dataDir, 'ferretdb');
    mkdirSync(dir);
    // An owner that has exited (an OOM-killed bot), and one that runs (this process).
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const orphan = await serverOwnedBy(bin, dir, dead);
    const shared = await serverOwnedBy(bin, dir, process.pid);
    const orphanEnded = once(orphan, 'exit');
    try {
      const server = await startFerretdb(bin, dataDir);
      await orphanEnded;
      expect(running(orphan)).toBe(false);
      expect(running(shared)).toBe(true);
      await server.stop();
    } finally {
      for (const p of [orphan, shared]) if (running(p)) p.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
