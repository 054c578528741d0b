import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDate } from '../src/jobs/time.js';
import { openTestDb, type TestDb } from './helpers/db.js';
import { looksLikeStackTrace, runScript, type ScriptRun } from './helpers/scripts.js';

let db: TestDb;
let dataDir: string;
let exportDir: string;
beforeAll(async () => {
  db = await openTestDb('scripts');
  dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-scripts-data-'));
  exportDir = mkdtempSync(path.join(tmpdir(), 'config-bot-scripts-exports-'));
});
afterAll(async () => {
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(exportDir, { recursive: true, force: true });
});

/** Runs a script as a user would (a separate node process), against this file's database and folders. */
function run(
  script: string,
  args: string[],
  opts: { env?: Record<string, string> } = {},
): Promise<ScriptRun> {
  return runScript(script, args, {
    env: {
      MONGODB_URI: db.uri,
      MONGODB_DB_NAME: db.dbName,
      DATA_DIR: dataDir,
      EXPORT_DIR: exportDir,
      DISCORD_TOKEN: '',
      DISCORD_GUILD_ID: '',
      ...opts.env,
    },
  });
}

// `npm run console` is covered in test/console.test.ts.

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
    expect(body.map((c) => c.name)).toEqual(['config', 'flag']);
    expect(body[0]).toMatchObject({ name: 'config', default_member_permissions: '8', contexts: [0] });
    expect(body[1]).toMatchObject({ name: 'flag', default_member_permissions: '8', contexts: [0] });
    expect(body[0]?.options.map((o) => o.name)).toEqual([
      'view',
      'set',
      'list',
      'history',
      'rollback',
      'reset',
      'status',
      'pending',
      'token',
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

describe('npm run export', () => {
  it('refuses a --date without a value, an impossible date and a future one, with one line each and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--date'], /Option '--date <value>' argument missing/],
      [['--date', '2026-02-30'], /--date 2026-02-30 is not a calendar date/],
      [['--date', '2999-01-01'], /--date 2999-01-01 is in the future/],
      [['--when', 'now'], /Unknown option '--when'/],
    ];
    const before = readdirSync(exportDir);
    for (const [args, message] of cases) {
      const r = await run('scripts/export.ts', args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(looksLikeStackTrace(r.stderr + r.stdout)).toBe(false);
    }
    expect(readdirSync(exportDir), 'nothing written').toEqual(before);
  });

  it('exports a past date once, says so the second time (exit 1), and again with --force', async () => {
    const yesterday = localDate(new Date(Date.now() - 86_400_000), 'UTC');
    const first = await run('scripts/export.ts', ['--date', yesterday]);
    expect(first.code, first.stderr).toBe(0);
    expect(looksLikeStackTrace(first.stderr)).toBe(false);
    expect(first.stdout).toMatch(
      new RegExp(
        `^Exported ${yesterday}: \\d+ audit rows from .* to ${yesterday}T18:00:00.000Z, config-snapshot.json`,
      ),
    );
    const second = await run('scripts/export.ts', ['--date', yesterday]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(`Not exported: ${yesterday} was exported already at .*; add --force to export it again`),
    );
    const forced = await run('scripts/export.ts', ['--date', yesterday, '--force']);
    expect(forced.code).toBe(0);
    expect(readdirSync(exportDir)).toEqual([yesterday]);
    const audit = await db.conn.collection('config_audit_logs').find({ action: 'export' }).toArray();
    expect(audit.map((a) => a.reason)).toEqual([
      expect.stringMatching(new RegExp(`^manual export of ${yesterday}`)),
      expect.stringMatching(new RegExp(`^forced re-run of the export of ${yesterday}`)),
    ]);
  });
});
