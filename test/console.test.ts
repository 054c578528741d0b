import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../src/config/models.js';
import { parseEnv } from '../src/env.js';
import { startRuntime } from '../src/runtime.js';
import { openTestDb, type TestDb } from './helpers/db.js';
import { looksLikeStackTrace, runScript, type ScriptRun } from './helpers/scripts.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A database and a DATA_DIR of the calling test's own, removed when it ends. */
async function ownDb(label: string): Promise<{ db: TestDb; env: Record<string, string> }> {
  const db = await openTestDb(label);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-console-'));
  onTestFinished(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const env = {
    MONGODB_URI: db.uri,
    MONGODB_DB_NAME: db.dbName,
    DATA_DIR: dataDir,
    DISCORD_TOKEN: '',
    DISCORD_GUILD_ID: '',
  };
  return { db, env };
}

const consoleRun = (env: Record<string, string>, args: string[], stdin?: string) =>
  runScript('scripts/console.ts', args, { env, ...(stdin !== undefined ? { stdin } : {}) });

/** Runs a shell command line from the project root, as a user would type it. */
function shell(line: string, env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = execFile(
      'sh',
      ['-c', line],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) || 1 : 0, signal: child.signalCode, stdout, stderr }),
    );
  });
}

const current = async (db: TestDb, key: string) => bindModels(db.conn).SystemConfig.findOne({ key }).lean();

describe('npm run console, one command', () => {
  it('--json prints one JSON object with every reply and stores the change', async () => {
    const { db, env } = await ownDb('console_json');
    const r = await consoleRun(env, [
      '--json',
      '/config set setting:MAX_BATCH_SIZE value:200 reason:"bigger batches"',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { replies: { kind: string; embeds: { title?: string }[] }[] };
    expect(out.replies.map((x) => x.kind)).toEqual(['defer', 'editReply']);
    expect(out.replies[1]?.embeds[0]?.title).toBe('Updated MAX_BATCH_SIZE');
    expect(await current(db, 'MAX_BATCH_SIZE')).toMatchObject({ value: 200, version: 2 });
  });

  it('exits 0 when the bot refused (validation, permission) and prints readable text', async () => {
    const { env } = await ownDb('console_refused');
    const bad = await consoleRun(env, ['/config set setting:MAX_BATCH_SIZE value:5000']);
    expect(bad.code).toBe(0);
    expect(bad.stdout).toMatch(/== Not done ==\nInvalid value for MAX_BATCH_SIZE: Must be at most 1000/);
    const member = await consoleRun(env, ['--as', 'member', '/config set setting:MAX_BATCH_SIZE value:300']);
    expect(member.code).toBe(0);
    expect(member.stdout).toMatch(/Not allowed/);
  });

  it('exits non-zero, saying why, when the console cannot run the line or Discord would not send it', async () => {
    const { env } = await ownDb('console_cannot');
    const missing = await consoleRun(env, ['/config rollback setting:MAX_BATCH_SIZE']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/Missing required option: version/);
    const tooMany = await consoleRun(env, ['/config history setting:MAX_BATCH_SIZE limit:1000']);
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.stderr).toMatch(/limit: 1000 is more than 25, the most this option allows/);
    expect((await consoleRun(env, ['--as', 'nobody', '/config list'])).code).not.toBe(0);
  });

  it('shows numbers as Discord displays them, without markdown escapes', async () => {
    const { env } = await ownDb('console_text');
    const r = await consoleRun(env, ['/config view setting:AI_CONFIDENCE_THRESHOLD']);
    expect(r.stdout).toContain('Value: 0.85');
    expect(r.stdout).not.toContain('0\\.85');
  });
});

describe('npm run console, a rollback or reset given on the command line', () => {
  it('without --yes changes nothing, shows no dead buttons, says how to confirm, and exits at once', async () => {
    const { db, env } = await ownDb('console_no_yes');
    await consoleRun(env, ['/config set setting:MAX_BATCH_SIZE value:300']);
    // A confirmation timer of ten minutes must not keep the process alive.
    const r = await consoleRun({ ...env, CONFIRM_TIMEOUT_MS: '600000' }, [
      '/config rollback setting:MAX_BATCH_SIZE version:1',
    ]);
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.stdout).toMatch(/Roll back MAX_BATCH_SIZE to version 1\?/);
    expect(r.stdout).not.toMatch(/\[Confirm\]/);
    expect(r.stdout).toMatch(/Nothing was changed: this needs confirmation\. Add --yes .*press Confirm/);
    expect(await current(db, 'MAX_BATCH_SIZE')).toMatchObject({ value: 300, version: 2 });
  });

  it('with --json and without --yes says "not confirmed; add --yes"', async () => {
    const { env } = await ownDb('console_json_no_yes');
    await consoleRun(env, ['/config set setting:LOG_LEVEL value:debug']);
    const r = await consoleRun(env, ['--json', '/config reset setting:LOG_LEVEL']);
    expect(JSON.parse(r.stdout)).toMatchObject({ confirmation: 'not confirmed; add --yes' });
  });

  it('with --yes presses Confirm and prints the result', async () => {
    const { db, env } = await ownDb('console_yes');
    await consoleRun(env, ['/config set setting:MAX_BATCH_SIZE value:300']);
    const r = await consoleRun(env, ['--yes', '/config rollback setting:MAX_BATCH_SIZE version:1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\(--yes: pressed Confirm\)[\s\S]*== Rolled back MAX_BATCH_SIZE ==/);
    expect(await current(db, 'MAX_BATCH_SIZE')).toMatchObject({ value: 100, version: 3 });
  });
});

describe('npm run console, lines from a pipe', () => {
  it('runs commands, press and complete, one output per line and no prompt', async () => {
    const { db, env } = await ownDb('console_pipe');
    const r = await consoleRun(
      env,
      ['--as', 'admin'],
      '/config set setting:MAX_BATCH_SIZE value:300\n/config rollback setting:MAX_BATCH_SIZE version:1\npress Confirm\ncomplete "/config view setting:MAX"\n',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('config-bot>');
    expect(r.stdout).toMatch(/Roll back MAX_BATCH_SIZE to version 1\?[\s\S]*\[Confirm\] \[Cancel\]/);
    expect(r.stdout).toMatch(/== Rolled back MAX_BATCH_SIZE ==/);
    expect(r.stdout).toMatch(/ {2}MAX_BATCH_SIZE {2}— {2}MAX_BATCH_SIZE — /);
    expect(await current(db, 'MAX_BATCH_SIZE')).toMatchObject({ value: 100, version: 3 });
  });

  it("the README's pipe examples work as written", async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const examples = readme.match(/printf '[^']*' \| npm run[^`\n]*console[^`\n]*/g) ?? [];
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) {
      const { env } = await ownDb('console_readme');
      const r = await shell(example, env);
      expect({ example, code: r.code, errors: r.stderr.match(/^error: .*/gm) }).toEqual({
        example,
        code: 0,
        errors: null,
      });
      expect(r.stdout).toMatch(/^== .+ ==$/m);
    }
  });
});

describe('npm run console, a write seen by other processes', () => {
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

describe('npm run console, files', () => {
  it('saves the file of an export and the chart of a history in --out (default: DATA_DIR/console-files), printing each path', async () => {
    const { env } = await ownDb('console_files');
    const out = path.join(env.DATA_DIR ?? '', 'mine');
    const r = await consoleRun(env, ['--out', out, '/config export']);
    expect(r.code).toBe(0);
    const [file] = readdirSync(out);
    expect(file).toMatch(/^config-export-.*\.json$/);
    expect(r.stdout).toContain(`Saved ${path.join(out, file ?? '')} (`);
    expect(JSON.parse(readFileSync(path.join(out, file ?? ''), 'utf8'))).toMatchObject({
      keys: { MAX_BATCH_SIZE: { values: { global: { value: 100 } } } },
    });

    await consoleRun(env, ['/config set setting:MAX_BATCH_SIZE value:300']);
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
    const { env } = await ownDb('console_attach');
    const file = path.join(env.DATA_DIR ?? '', 'wanted.json');
    const exported = await consoleRun(env, ['--json', '/config export']);
    const from = (JSON.parse(exported.stdout) as { files: { path: string }[] }).files[0]?.path ?? '';
    const content = JSON.parse(readFileSync(from, 'utf8')) as {
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

describe('npm run console, output piped to a reader that stops early', () => {
  it('exits quietly when the reader goes away (| head -1), running no further line', async () => {
    const { db, env } = await ownDb('console_epipe');
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/console.ts'], {
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
});

describe('npm run -s console -- --json', () => {
  it('prints only JSON on stdout: npm -s leaves out its banner', async () => {
    const { env } = await ownDb('console_npm');
    const r = await shell(`npm run -s console -- --json "/config list"`, env);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { replies: { kind: string; embeds: { title?: string }[] }[] };
    expect(out.replies[0]?.embeds[0]?.title).toMatch(/Configuration/);
  });
});

/** The console in a pseudo-terminal (util-linux `script`), typed into as a person would. */
function inTerminal(env: Record<string, string>) {
  const command = `'${process.execPath}' --import tsx scripts/console.ts`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let screen = '';
  // Cursor moves and colours readline and the logger write, which a person does not read as text.
  // eslint-disable-next-line no-control-regex
  const plain = () => screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // A test that fails half-way must not leave a console waiting for keys.
  onTestFinished(() => void (child.exitCode === null && child.kill()));
  return {
    type: (keys: string) => child.stdin.write(keys),
    /** Waits until the screen shows `pattern` the `count`-th time. */
    async shows(pattern: RegExp, count = 1): Promise<string> {
      const global = new RegExp(pattern.source, 'g');
      while ((plain().match(global) ?? []).length < count) {
        if (child.exitCode !== null) throw new Error(`console exited before showing ${pattern}:\n${plain()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return plain();
    },
    async quit(): Promise<number | null> {
      child.stdin.write('quit\r');
      return exited;
    },
  };
}

describe('npm run console in a terminal', () => {
  it('shows a prompt, echoes what is typed, prints the reply, and keeps history across sessions', async () => {
    const { env } = await ownDb('console_tty');
    const first = inTerminal(env);
    await first.shows(/config-bot> /);
    first.type('/config view setting:MAX_BATCH_SIZE\r');
    const screen = await first.shows(/config-bot> /, 2);
    expect(screen).toMatch(
      /config-bot> \/config view setting:MAX_BATCH_SIZE\n== MAX_BATCH_SIZE ==\n[\s\S]*Value: 100/,
    );
    // A sensitive value typed here must not reach the history file.
    first.type('/config set setting:EXPORT_WEBHOOK_URL value:https://hooks.example/secret-token\r');
    await first.shows(/config-bot> /, 3);
    expect(await first.quit()).toBe(0);
    const history = readFileSync(path.join(env.DATA_DIR ?? '', 'console_history'), 'utf8');
    expect(history).toContain('/config view setting:MAX_BATCH_SIZE\n');
    expect(history).not.toContain('secret-token');

    const second = inTerminal(env);
    await second.shows(/config-bot> /);
    second.type('\x1b[A\x1b[A\r'); // up arrow twice: past `quit`, to the command typed last session
    await second.shows(/== MAX_BATCH_SIZE ==/);
    expect(await second.quit()).toBe(0);
  });
});
