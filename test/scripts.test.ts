import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseEncryptionKey } from '../src/storage/codec.js';
import { bindModels } from '../src/storage/config-models.js';
import { registry } from '../src/config/registry.js';
import { ConfigService } from '../src/config/service.js';
import { localDate } from '../src/jobs/time.js';
import { actor, openTestDb, type TestDb } from './helpers/db.js';
import { spawnTs } from './helpers/process.js';
import { looksLikeStackTrace, runScript, type ScriptRun, type Via } from './helpers/scripts.js';
import { CONSOLE_TEST_TIMEOUT_MS } from './helpers/console.js';

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

/**
 * Runs a script as a user would (a separate node process), against this file's database and
 * folders: from this run's build, or through tsx as `npm run` starts it (`via: 'tsx'`, at least
 * one full run of each script here).
 */
function run(
  script: string,
  args: string[],
  opts: { env?: Record<string, string>; via?: Via } = {},
): Promise<ScriptRun> {
  return runScript(script, args, {
    via: opts.via ?? 'build',
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

describe('npm run deploy-commands', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  it('--dry-run prints the commands JSON without a token or network', async () => {
    const r = await run('scripts/deploy-commands.ts', ['--dry-run'], { via: 'tsx' });
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
      'diff',
      'rollback',
      'reset',
      'status',
      'panel',
      'pending',
      'export',
      'import',
      'requests',
      'request',
      'token',
      'audit',
      'snapshot',
    ]);
  });

  it('refuses an unknown option in one line naming the known ones (exit 2)', async () => {
    const r = await run('scripts/deploy-commands.ts', ['--dryrun']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Unknown option --dryrun. Known options: --global, --dry-run, --help (-h).\n');
    expect(r.stdout).toBe('');
  });

  it('without a token says how to get one', async () => {
    const r = await run('scripts/deploy-commands.ts', []);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DISCORD_TOKEN is not set/);
  });
});

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('npm start', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  it('without a token serves the API and the panel, says Discord is not connected, and prints a login link', async () => {
    const port = await freePort();
    const ownData = mkdtempSync(path.join(tmpdir(), 'config-bot-start-data-'));
    // A database of its own: the process seeds it and runs its jobs there.
    const ownDb = await openTestDb('scripts_start');
    // Through tsx (spawnTs's default for an entry point), as `npm run dev` starts it.
    const child = spawnTs('src/index.ts', [], {
      MONGODB_URI: ownDb.uri,
      MONGODB_DB_NAME: ownDb.dbName,
      DATA_DIR: ownData,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      PANEL_URL: '',
      DISCORD_TOKEN: '',
      DISCORD_GUILD_ID: '',
    });
    onTestFinished(async () => {
      child.proc.kill('SIGTERM');
      await child.closed();
      await ownDb.drop();
      rmSync(ownData, { recursive: true, force: true });
    });
    let line = '';
    while (!line.startsWith('Open the web panel: '))
      line = await child.nextLine(CONSOLE_TEST_TIMEOUT_MS / 2, 'the login link');
    const link = line.slice('Open the web panel: '.length);
    expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/panel/login/[A-Za-z0-9_-]{43}$`));
    expect(await child.nextLine(5000, 'the line after the link')).toMatch(
      /logs in the local admin once, within 5 minutes; for another link: npm run console -- "\/config panel"/,
    );
    expect(child.stderr()).toMatch(
      /Discord is not connected \(DISCORD_TOKEN is not set\)[\s\S]*1\. create an application at https:\/\/discord\.com\/developers\/applications[\s\S]*2\. put DISCORD_TOKEN=[\s\S]*3\. npm run deploy-commands, then npm start again/,
    );
    expect(looksLikeStackTrace(child.stderr())).toBe(false);

    // The link logs the local admin in, once.
    const origin = `http://127.0.0.1:${port}`;
    const login = await fetch(link, { method: 'POST', redirect: 'manual', headers: { origin } });
    expect(login.status).toBe(303);
    const cookie = /^panel_session=([^;]+)/.exec(login.headers.getSetCookie()[0] ?? '')?.[1];
    expect(cookie).toBeTruthy();
    const page = await fetch(`${origin}/panel`, { headers: { cookie: `panel_session=${cookie}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/local-admin <small>\(admin\)<\/small>/);
    expect((await fetch(link, { method: 'POST', redirect: 'manual', headers: { origin } })).status).toBe(410);
    // The API answers beside it.
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
  });
});

describe('npm run export', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
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
    const first = await run('scripts/export.ts', ['--date', yesterday], { via: 'tsx' });
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

// Each runs several scripts, each a node process of its own.
describe('npm run config:export and config:import', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  const KEY = randomBytes(32).toString('base64');
  const SECRET = 'https://hooks.example.com/s3cr3t-token';
  const GUILD = '900000000000000001';

  /** A database of its own with a service on it (staging declared, the test's encryption key). */
  async function side(label: string) {
    const d = await openTestDb(label);
    const svc = new ConfigService({
      registry,
      conn: d.conn,
      encryptionKeys: [parseEncryptionKey(KEY)],
      environments: ['production', 'staging'],
    });
    await svc.init();
    onTestFinished(async () => {
      await svc.close();
      await d.drop();
    });
    const vars = {
      MONGODB_DB_NAME: d.dbName,
      ENVIRONMENTS: 'production,staging',
      CONFIG_ENCRYPTION_KEYS: KEY,
    };
    const imports = () => bindModels(d.conn).ConfigVersion.countDocuments({ action: 'import' });
    return { svc, vars, imports };
  }

  /** What a script said on stderr besides its log lines (which go to stderr too). */
  const said = (stderr: string) => stderr.split('\n').filter((l) => l && !/^\d\d:\d\d:\d\d\.\d{3} /.test(l));

  const fileIn = (name: string, text: string) => {
    const file = path.join(dataDir, name);
    writeFileSync(file, text);
    return file;
  };

  it('exports every scope (secrets encrypted) and imports it into an empty database: dry run, not confirmed, --yes', async () => {
    const from = await side('cfg_from');
    await from.svc.set('MAX_BATCH_SIZE', '200', actor());
    await from.svc.set('MAX_BATCH_SIZE', '50', actor(), undefined, {}, { scope: 'env:staging' });
    await from.svc.set('MAX_BATCH_SIZE', '25', actor(), undefined, {}, { scope: `guild:${GUILD}` });
    await from.svc.set('LOG_LEVEL', 'debug', actor(), undefined, {}, { scope: 'env:staging' });
    await from.svc.set('EXPORT_WEBHOOK_URL', SECRET, actor());
    const out = path.join(dataDir, 'export.json');
    const exported = await run('scripts/config-export.ts', ['--secrets', '--out', out], {
      env: from.vars,
      via: 'tsx',
    });
    expect(exported.code, exported.stderr).toBe(0);
    expect(said(exported.stderr).join('\n')).toMatch(
      /^Exported \d+ values \(sensitive ones encrypted with key [0-9a-f]{8}\) to /,
    );
    const text = readFileSync(out, 'utf8');
    expect(text).not.toContain('s3cr3t');

    const to = await side('cfg_to');
    const dry = await run('scripts/config-import.ts', [out, '--dry-run'], { env: to.vars });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/Changes \(5\):\n {2}MAX_BATCH_SIZE: 100 → 200\n/);
    expect(dry.stdout).toMatch(/Nothing was changed \(dry run\)\./);
    const unconfirmed = await run('scripts/config-import.ts', [out], { env: to.vars });
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stdout).toMatch(/Apply 5 changes\? \[y\/N\] \nNothing was changed \(not confirmed/);
    expect(await to.imports()).toBe(0);

    const applied = await run('scripts/config-import.ts', [out, '--yes'], { env: to.vars, via: 'tsx' });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/Imported 5 of 5 changes\./);
    expect(looksLikeStackTrace(applied.stderr + applied.stdout)).toBe(false);
    await to.svc.refresh();
    for (const at of [{}, { environment: 'staging' }, { guildId: GUILD }])
      for (const k of registry.keys())
        expect(to.svc.get(k, at), `${k} ${JSON.stringify(at)}`).toEqual(from.svc.get(k, at));
    expect(to.svc.get('EXPORT_WEBHOOK_URL')).toBe(SECRET);
  });

  it('reports unknown keys and invalid values one line each, and applies the valid ones (exit 1)', async () => {
    const to = await side('cfg_mixed');
    const file = fileIn(
      'mixed.json',
      JSON.stringify({
        format: 'config-bot-export',
        formatVersion: 1,
        exportedAt: new Date().toISOString(),
        environments: ['production'],
        secrets: 'omitted',
        keys: {
          LOG_LEVEL: { values: { global: { value: 'warn', version: 2 } } },
          MAX_BATCH_SIZE: { values: { global: { value: 5000, version: 2 } } },
          NOT_A_KEY: { values: { global: { value: 1, version: 1 } } },
        },
      }),
    );
    const r = await run('scripts/config-import.ts', [file, '--yes'], { env: to.vars });
    expect(r.code).toBe(1);
    expect(said(r.stderr)).toEqual([
      expect.stringMatching(/^MAX_BATCH_SIZE: .*Must be at most 1000/),
      'NOT_A_KEY: not a setting of this bot',
    ]);
    expect(r.stdout).toMatch(/LOG_LEVEL: imported as v2/);
    await to.svc.refresh();
    expect(to.svc.get('LOG_LEVEL')).toBe('warn');
    expect(to.svc.get('MAX_BATCH_SIZE')).toBe(100);
  });

  it('refuses a malformed, hostile or oversized file with one plain line and exit 2, writing nothing', async () => {
    const to = await side('cfg_bad');
    const cases: [string, string, RegExp][] = [
      ['bad.json', '{not json', /it is not valid JSON/],
      ['deep.json', `${'['.repeat(100)}${']'.repeat(100)}`, /nested 100 levels deep/],
      ['proto.json', '{"__proto__":{"x":1}}', /uses the name "__proto__"/],
      ['big.json', `"${'x'.repeat(1_100_000)}"`, /is 1100002 bytes; an import reads at most 1048576 bytes/],
    ];
    for (const [name, content, message] of cases) {
      const r = await run('scripts/config-import.ts', [fileIn(name, content), '--yes'], { env: to.vars });
      expect(r.code, name).toBe(2);
      expect(said(r.stderr), name).toEqual([expect.stringMatching(message)]);
      expect(looksLikeStackTrace(r.stderr + r.stdout)).toBe(false);
    }
    const usage = await run('scripts/config-import.ts', [], { env: to.vars });
    expect(usage.code).toBe(2);
    expect(await to.imports()).toBe(0);
  });

  it('refuses --secrets without CONFIG_ENCRYPTION_KEYS (exit 2)', async () => {
    const from = await side('cfg_keyless');
    const r = await run('scripts/config-export.ts', ['--secrets'], {
      env: { ...from.vars, CONFIG_ENCRYPTION_KEYS: '' },
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/CONFIG_ENCRYPTION_KEYS is not set on this bot\. Nothing was exported\./);
  });
});
