import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels } from '../src/config/models.js';
import { openTestDb, type TestDb } from './helpers/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb('scripts');
});
afterAll(async () => {
  await db.drop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a script as a user would (a separate node process), against this file's database. */
function run(
  script: string,
  args: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      {
        env: {
          ...process.env,
          MONGODB_URI: db.uri,
          MONGODB_DB_NAME: db.dbName,
          DISCORD_TOKEN: '',
          DISCORD_GUILD_ID: '',
          ...opts.env,
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(opts.stdin ?? '');
  });
}

describe('npm run console', () => {
  it('one-shot --json prints one JSON object with every reply and stores the change', async () => {
    const r = await run('scripts/console.ts', [
      '--json',
      '/config set setting:MAX_BATCH_SIZE value:200 reason:"bigger batches"',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      replies: { kind: string; embeds: { title?: string }[]; flags?: number }[];
    };
    expect(out.replies.map((x) => x.kind)).toEqual(['defer', 'editReply']);
    expect(out.replies[1]?.embeds[0]?.title).toBe('Updated MAX_BATCH_SIZE');
    const current = await bindModels(db.conn).SystemConfig.findOne({ key: 'MAX_BATCH_SIZE' }).lean();
    expect(current).toMatchObject({ value: 200, version: 2 });
  });

  it('exits 0 when the bot refused (validation, permission) and prints readable text', async () => {
    const bad = await run('scripts/console.ts', ['/config set setting:MAX_BATCH_SIZE value:5000']);
    expect(bad.code).toBe(0);
    expect(bad.stdout).toMatch(/== Not done ==\nInvalid value for MAX_BATCH_SIZE: Must be at most 1000/);
    const member = await run('scripts/console.ts', [
      '--as',
      'member',
      '/config set setting:MAX_BATCH_SIZE value:300',
    ]);
    expect(member.code).toBe(0);
    expect(member.stdout).toMatch(/Not allowed/);
  });

  it('exits non-zero when the console cannot run the line', async () => {
    const r = await run('scripts/console.ts', ['/config set setting:MAX_BATCH_SIZE']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Missing required option: value/);
    const bogus = await run('scripts/console.ts', ['--as', 'nobody', '/config list']);
    expect(bogus.code).not.toBe(0);
  });

  it('reads lines from a pipe: commands, press and complete', async () => {
    const r = await run('scripts/console.ts', ['--as', 'admin'], {
      stdin:
        '/config rollback setting:MAX_BATCH_SIZE version:1\npress Confirm\ncomplete "/config view setting:MAX"\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Roll back MAX_BATCH_SIZE to version 1\?[\s\S]*\[Confirm\] \[Cancel\]/);
    expect(r.stdout).toMatch(/== Rolled back MAX_BATCH_SIZE ==/);
    expect(r.stdout).toMatch(/ {2}MAX_BATCH_SIZE {2}— {2}MAX_BATCH_SIZE — /);
    const current = await bindModels(db.conn).SystemConfig.findOne({ key: 'MAX_BATCH_SIZE' }).lean();
    expect(current).toMatchObject({ value: 100, version: 3 });
  });
});

describe('npm run deploy-commands', () => {
  it('--dry-run prints the commands JSON without a token or network', async () => {
    const r = await run('scripts/deploy-commands.ts', ['--dry-run']);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as {
      name: string;
      default_member_permissions: string;
      contexts: number[];
      options: { name: string }[];
    }[];
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({ name: 'config', default_member_permissions: '8', contexts: [0] });
    expect(body[0]?.options.map((o) => o.name)).toEqual([
      'view',
      'set',
      'list',
      'history',
      'rollback',
      'reset',
      'status',
    ]);
  });

  it('without a token says how to get one', async () => {
    const r = await run('scripts/deploy-commands.ts', []);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DISCORD_TOKEN is not set/);
  });
});

describe('npm start', () => {
  it('without a token exits 1 saying how to get one and pointing to the console', async () => {
    const r = await run('src/index.ts', []);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DISCORD_TOKEN is not set[\s\S]*developers[\s\S]*npm run console/);
  });
});
