import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../src/storage/config-models.js';
import { parseEnv } from '../src/app/env.js';
import { startRuntime } from '../src/app/runtime.js';
import { buildExport } from '../src/transfer/export-file.js';
import { openService, type TestDb } from './helpers/db.js';
import { looksLikeStackTrace, nodeArgs } from './helpers/scripts.js';
import { CONSOLE_TEST_TIMEOUT_MS, consoleRun, ownDb, ROOT, storeValue } from './helpers/console.js';

const current = async (db: TestDb, key: string) => bindModels(db.conn).SystemConfig.findOne({ key }).lean();

describe('npm run console, a write seen by other processes', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  it('prints the reply once, in its final form saying which processes applied it', async () => {
    const { env } = await ownDb('console_applied');
    // A process following the configuration and reporting itself, as an API process does.
    const follower = await startRuntime(
      parseEnv({ ...env, DATA_DIR: path.join(env.DATA_DIR ?? '', 'follower'), INSTANCE_REPORT_MS: '500' }),
      { jobs: false, report: 'api' },
    );
    onTestFinished(() => follower.stop());
    const r = await consoleRun(env, ['/config set setting:MAX_BATCH_SIZE value:200']);
    expect(r.stdout.match(/== Updated MAX_BATCH_SIZE ==/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/== Updated MAX_BATCH_SIZE ==\n[\s\S]*Processes: Applied by 1 of 1 process/);
    // Read from a pipe, as JSON: one line, the reply in its final form once.
    const piped = await consoleRun(env, ['--json'], '/config set setting:MAX_BATCH_SIZE value:300\n');
    const lines = piped.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0] ?? '') as { replies: { kind: string }[] };
    expect(out.replies.map((x) => x.kind)).toEqual(['defer', 'editReply']);
    expect(JSON.stringify(out.replies[1])).toMatch(/Applied by 1 of 1 process/);
  });
});

describe('npm run console, files', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  it('saves the file of an export and the chart of a history in --out (default: DATA_DIR/console-files), printing each path', async () => {
    const { db, env } = await ownDb('console_files');
    const out = path.join(env.DATA_DIR ?? '', 'mine');
    const r = await consoleRun(env, ['--out', out, '/config export']);
    expect(r.code).toBe(0);
    const [file] = readdirSync(out);
    expect(file).toMatch(/^config-export-.*\.json$/);
    expect(r.stdout).toContain(`Saved ${path.join(out, file ?? '')} (`);
    expect(JSON.parse(readFileSync(path.join(out, file ?? ''), 'utf8'))).toMatchObject({
      keys: { MAX_BATCH_SIZE: { values: { global: { value: 100 } } } },
    });

    await storeValue(db, 'MAX_BATCH_SIZE', '300');
    const chart = await consoleRun(env, ['--json', '/config history setting:MAX_BATCH_SIZE']);
    const saved = (JSON.parse(chart.stdout) as { files: { name: string; path: string; bytes: number }[] })
      .files;
    expect(saved).toEqual([
      expect.objectContaining({
        path: expect.stringContaining(path.join(env.DATA_DIR ?? '', 'console-files')),
      }),
    ]);
    expect(
      readFileSync(saved[0]?.path ?? '')
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });

  it('attaches a local file with file:@PATH or --attach, and refuses one it cannot read', async () => {
    const { db, env } = await ownDb('console_attach');
    const file = path.join(env.DATA_DIR ?? '', 'wanted.json');
    // The file /config export gives (the export is tested above), built in this process.
    const svc = await openService(db);
    const exported = await buildExport(svc).finally(() => svc.close());
    const content = JSON.parse(exported.text) as {
      keys: Record<string, { values: Record<string, { value: unknown }> }>;
    };
    const global = content.keys.MAX_BATCH_SIZE?.values.global;
    if (global) global.value = 250;
    writeFileSync(file, JSON.stringify(content));

    const inline = await consoleRun(env, [`/config import file:@${file} dry-run:true`]);
    expect(inline.stdout).toMatch(/== Dry run: import of wanted\.json ==\n1 to change/);
    const picked = await consoleRun(env, ['--attach', file, '/config import dry-run:true']);
    expect(picked.stdout).toMatch(/== Dry run: import of wanted\.json ==\n1 to change/);

    const missing = await consoleRun(env, ['/config import file:@/no/such/file.json']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/^error: Cannot attach \/no\/such\/file\.json: no such file$/m);
  });
});

describe(
  'npm run console, output piped to a reader that stops early',
  { timeout: CONSOLE_TEST_TIMEOUT_MS },
  () => {
    it('exits quietly when the reader goes away (| head -1), running no further line', async () => {
      const { db, env } = await ownDb('console_epipe');
      const child = spawn(process.execPath, nodeArgs('scripts/console.ts', 'build'), {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      // As `head -1` does: read up to the first line, then close the pipe.
      const firstLine = new Promise<void>((resolve) => {
        let seen = '';
        child.stdout.on('data', (d: Buffer) => {
          seen += d.toString();
          if (seen.includes('\n')) resolve();
        });
      });
      child.stdin.write('/config list\n');
      await firstLine;
      child.stdout.destroy();
      child.stdin.end('/config list\n/config set setting:MAX_BATCH_SIZE value:300\n');
      expect(await exited).toBe(0);
      expect(looksLikeStackTrace(stderr)).toBe(false);
      expect(stderr).not.toMatch(/EPIPE/);
      // The second list met the closed pipe; the set after it was never run.
      expect(await current(db, 'MAX_BATCH_SIZE')).toMatchObject({ value: 100 });
    });
  },
);
