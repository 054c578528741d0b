import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../src/storage/config-models.js';
import type { TestDb } from './helpers/db.js';
import { CONSOLE_TEST_TIMEOUT_MS, consoleRun, ownDb, ROOT, shell, storeValue } from './helpers/console.js';

const current = async (db: TestDb, key: string) => bindModels(db.conn).SystemConfig.findOne({ key }).lean();

describe('npm run console, one command', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
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
    const member = await consoleRun(env, ['--as=member', '/config set setting:MAX_BATCH_SIZE value:300']);
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
    const unknown = await consoleRun(env, ['--jsno', '/config list']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^Unknown option --jsno\. Known options: --json, --yes \(-y\), --as VALUE, .*\.\n$/,
    );
    expect(unknown.stdout).toBe('');
  });

  it('shows numbers as Discord displays them, without markdown escapes', async () => {
    const { env } = await ownDb('console_text');
    const r = await consoleRun(env, ['/config view setting:AI_CONFIDENCE_THRESHOLD']);
    expect(r.stdout).toContain('Value: 0.85');
    expect(r.stdout).not.toContain('0\\.85');
  });
});

describe(
  'npm run console, a rollback or reset given on the command line',
  { timeout: CONSOLE_TEST_TIMEOUT_MS },
  () => {
    it('without --yes changes nothing, shows no dead buttons, says how to confirm, and exits at once', async () => {
      const { db, env } = await ownDb('console_no_yes');
      await storeValue(db, 'MAX_BATCH_SIZE', '300');
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
      const { db, env } = await ownDb('console_json_no_yes');
      await storeValue(db, 'LOG_LEVEL', 'debug');
      const r = await consoleRun(env, ['--json', '/config reset setting:LOG_LEVEL']);
      expect(JSON.parse(r.stdout)).toMatchObject({ confirmation: 'not confirmed; add --yes' });
    });

    it('with --yes presses Confirm and prints the result', async () => {
      const { db, env } = await ownDb('console_yes');
      await storeValue(db, 'MAX_BATCH_SIZE', '300');
      const r = await consoleRun(env, ['--yes', '/config rollback setting:MAX_BATCH_SIZE version:1']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/\(--yes: pressed Confirm\)[\s\S]*== Rolled back MAX_BATCH_SIZE ==/);
      expect(await current(db, 'MAX_BATCH_SIZE')).toMatchObject({ value: 100, version: 3 });
    });
  },
);

describe('npm run console, lines from a pipe', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
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

  it('the pipe examples of the README and docs/commands.md work as written', async () => {
    const readme = ['README.md', 'docs/commands.md']
      .map((f) => readFileSync(path.join(ROOT, f), 'utf8'))
      .join('\n');
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

describe('npm run -s console -- --json', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
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

describe('npm run console in a terminal', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
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
