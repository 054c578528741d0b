import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../src/storage/config-models.js';
import { freePort } from '../src/storage/embedded.js';
import { parseEnv } from '../src/app/env.js';
import { startRuntime } from '../src/app/runtime.js';
import { actor, openTestDb, uniqueDbName, type TestDb } from './helpers/db.js';
import { looksLikeStackTrace, runScript } from './helpers/scripts.js';
import { CONSOLE_TEST_TIMEOUT_MS } from './helpers/console.js';

const ENTRY_POINTS = [
  'scripts/console.ts',
  'scripts/export.ts',
  'src/index.ts',
  'scripts/rotate-encryption-key.ts',
];
/** A token of the right shape (application id, timestamp, HMAC) that Discord never issued. */
const FAKE_TOKEN = `${Buffer.from('930000000000000001').toString('base64')}.GxXxXx.${'a'.repeat(38)}`;

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb('startup');
});
afterAll(async () => {
  await db.drop();
});

function tempDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'config-bot-startup-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A loopback port nothing listens on. */
const closedPort = () => freePort();

describe('a bad environment', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  const BAD = {
    MONGODB_URI: 'http://x',
    DB_TIMEOUT_MS: 'abc',
    DISCORD_TOKEN: 'short',
    ADMIN_ROLE_IDS: 'abc',
    CONFIG_ENCRYPTION_KEY: 'tooshort',
    CONFIG_OVERRIDE_MAX_BATCH_SIZE: 'lots',
  };
  it.each(ENTRY_POINTS)(
    '%s prints one plain line per problem, no stack, and exits non-zero',
    async (script) => {
      // Through tsx, as `npm run` starts each: the other tests here run them from the build.
      const r = await runScript(script, [], { env: BAD, via: 'tsx' });
      expect(r.code).toBe(2);
      expect(looksLikeStackTrace(r.stderr)).toBe(false);
      const lines = r.stderr.trim().split('\n');
      expect(lines.map((l) => l.split(':')[0]).sort()).toEqual(Object.keys(BAD).sort());
      expect(lines).toContain('ADMIN_ROLE_IDS: `abc` is not a Discord id (15-21 digits, comma-separated)');
      expect(lines).toContain('DB_TIMEOUT_MS: `abc` is not a whole number of milliseconds (500-60000)');
      expect(lines).toContain(
        'CONFIG_OVERRIDE_MAX_BATCH_SIZE: Invalid value for MAX_BATCH_SIZE: "lots" is not a whole number. Use digits only, e.g. 100. Allowed: integer 1-1000.',
      );
      expect(r.stdout).toBe('');
    },
  );
});

describe('an unreachable database', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  it('with no last-known-good copy: one line saying there is neither', async () => {
    const dir = tempDataDir();
    const port = await closedPort();
    const r = await runScript('scripts/console.ts', ['/config list'], {
      via: 'build',
      env: { MONGODB_URI: `mongodb://127.0.0.1:${port}/cfg`, DB_TIMEOUT_MS: '500', DATA_DIR: dir },
    });
    expect(r.code).toBe(1);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
    const last = r.stderr.trim().split('\n').at(-1);
    expect(last).toMatch(
      new RegExp(
        `^Cannot start: mongodb://127\\.0\\.0\\.1:${port}/cfg \\(database cfg\\) cannot be reached \\(.+\\), and there is no last-known-good copy \\(.*last-known-good\\.cfg\\.json\\) to start from\\. Start the database or fix MONGODB_URI`,
      ),
    );
  });

  it('with a last-known-good copy: the console starts from it, reads work, writes are refused and audited later', async () => {
    const dir = tempDataDir();
    const env = { MONGODB_URI: db.uri, MONGODB_DB_NAME: db.dbName, DATA_DIR: dir };
    // A process that ran against the database (here, this one) left its last-known-good copy.
    const first = await startRuntime(parseEnv(env), { jobs: false });
    await first.config.set('MAX_BATCH_SIZE', '321', actor());
    await first.stop();

    const port = await closedPort();
    const down = {
      MONGODB_URI: `mongodb://127.0.0.1:${port}/`,
      MONGODB_DB_NAME: db.dbName,
      DB_TIMEOUT_MS: '500',
      DATA_DIR: dir,
    };
    const r = await runScript('scripts/console.ts', ['--as', 'admin'], {
      via: 'build',
      env: down,
      stdin:
        '/config view setting:MAX_BATCH_SIZE\n/config set setting:MAX_BATCH_SIZE value:400\n/config status\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Value: 321/);
    expect(r.stdout).toMatch(/Database unavailable, nothing was changed/);
    expect(r.stdout).toMatch(/Started from the last-known-good copy written/);
    expect(r.stderr).toMatch(/Started from the last-known-good copy/);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);

    // The refused write's audit row waited on disk, and is written (marked late) once the database answers.
    const again = await runScript('scripts/console.ts', ['/config view setting:MAX_BATCH_SIZE'], {
      env,
      via: 'build',
    });
    expect(again.code).toBe(0);
    const late = await bindModels(db.conn)
      .ConfigAudit.find({ key: 'MAX_BATCH_SIZE', status: 'failed', attemptedAt: { $exists: true } })
      .lean();
    expect(late).toHaveLength(1);
    expect(late[0]?.error).toMatch(/Database unavailable/);
    expect(late[0]!.createdAt.getTime()).toBeGreaterThan(late[0]!.attemptedAt!.getTime());
  });
});

describe('an environment override (CONFIG_OVERRIDE_<KEY>)', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  it('wins over the stored value in that process only; view and status say so; a stored change waits', async () => {
    const env = { MONGODB_URI: db.uri, MONGODB_DB_NAME: db.dbName, DATA_DIR: tempDataDir() };
    const forced = { ...env, CONFIG_OVERRIDE_MAX_BATCH_SIZE: '250' };
    const r = await runScript('scripts/console.ts', ['--as', 'admin'], {
      via: 'build',
      env: forced,
      stdin:
        '/config view setting:MAX_BATCH_SIZE\n/config set setting:MAX_BATCH_SIZE value:300\n/config status\n',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
    expect(r.stdout).toMatch(/Value: 250/);
    expect(r.stdout).toMatch(
      /The value comes from CONFIG_OVERRIDE_MAX_BATCH_SIZE in this bot process's environment/,
    );
    // Stored (for every other process), with a warning that this one keeps the override.
    expect(r.stdout).toMatch(/New value: 300/);
    expect(r.stdout).toMatch(/stored value has no effect here until that variable is removed/);
    expect(r.stdout).toMatch(
      /Environment overrides \(this process only\): MAX_BATCH_SIZE \(CONFIG_OVERRIDE_MAX_BATCH_SIZE\)/,
    );
    // A process without the variable serves what is stored.
    const plain = await runScript('scripts/console.ts', ['/config view setting:MAX_BATCH_SIZE'], {
      env,
      via: 'build',
    });
    expect(plain.stdout).toMatch(/Value: 300/);
    expect(plain.stdout).not.toMatch(/CONFIG_OVERRIDE/);
  });
});

describe('MONGODB_URI naming a database', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  it('uses the database the URI names, not MONGODB_DB_NAME', async () => {
    const name = uniqueDbName('uri_named');
    const other = db.conn.useDb(name);
    onTestFinished(async () => void (await other.dropDatabase()));
    const r = await runScript('scripts/console.ts', ['/config set setting:MAX_BATCH_SIZE value:222'], {
      via: 'build',
      env: {
        MONGODB_URI: `${db.uri.replace(/\/?$/, '/')}${name}`,
        MONGODB_DB_NAME: '',
        DATA_DIR: tempDataDir(),
      },
    });
    expect(r.code).toBe(0);
    expect(
      await other.collection('system_configs').findOne({ _id: 'MAX_BATCH_SIZE' as never }),
    ).toMatchObject({ value: 222 });
    expect(
      await db.conn.useDb('config_bot').collection('system_configs').countDocuments({ value: 222 }),
    ).toBe(0);
  });
});

describe('Discord cannot be reached', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    // A stand-in for Discord's API that refuses every token, as Discord does a wrong one.
    server = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: '401: Unauthorized', code: 0 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const discordEnv = (api: string) => ({
    DISCORD_TOKEN: FAKE_TOKEN,
    DISCORD_GUILD_ID: '900000000000000001',
    DISCORD_API_URL: api,
    MONGODB_URI: db.uri,
    MONGODB_DB_NAME: db.dbName,
    DATA_DIR: tempDataDir(),
  });

  it('deploy-commands without network: one clear line, nothing registered', async () => {
    const r = await runScript('scripts/deploy-commands.ts', [], {
      via: 'build',
      env: discordEnv(`http://127.0.0.1:${await closedPort()}/api`),
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^Could not reach Discord's API at http:\/\/127\.0\.0\.1:\d+\/api \(ECONNREFUSED\) to register the commands: check the network connection or DISCORD_API_URL\. Nothing was registered\.$/,
    );
  });

  it('deploy-commands with a refused token says to copy a new one', async () => {
    const r = await runScript('scripts/deploy-commands.ts', [], {
      via: 'build',
      env: discordEnv(`http://127.0.0.1:${port}/api`),
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^Discord refused DISCORD_TOKEN \(401 Unauthorized\).*Reset Token|Bot\.? Nothing was registered\.$/,
    );
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
  });

  it('the bot without network: one clear line about logging in, no stack', async () => {
    const r = await runScript('src/index.ts', [], {
      via: 'build',
      env: discordEnv(`http://127.0.0.1:${await closedPort()}/api`),
    });
    expect(r.code).toBe(1);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /^Could not reach Discord's API at http:\/\/127\.0\.0\.1:\d+\/api \(ECONNREFUSED\) to log in/,
    );
  });
});
