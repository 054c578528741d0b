import { ConnectionString } from 'mongodb-connection-string-url';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { TokenStore } from '../src/tokens/tokens.js';
import { connect } from '../src/storage/connection.js';
import { ArgsError } from '../scripts/lib/args.js';
import { benchArgs } from '../scripts/lib/bench-args.js';
import { openBenchDatabase } from '../scripts/lib/bench-db.js';
import { actor, uniqueDbName } from './helpers/db.js';
import { spawnTs } from './helpers/process.js';
import { runScript } from './helpers/scripts.js';

/** The shared test server's URI, naming `name` as its database. */
function naming(name: string): string {
  const uri = new ConnectionString(inject('mongoUri'));
  uri.pathname = `/${name}`;
  return uri.toString();
}

/** Opens the bench's database and drops it when the test ends. */
async function benchDb(uri: string) {
  const db = await openBenchDatabase(uri);
  onTestFinished(async () => {
    await db.conn.dropDatabase();
    await db.conn.close();
  });
  return db;
}

describe('npm run bench, its database', () => {
  it('is the one MONGODB_URI names: a token it creates is accepted by the API process it starts', async () => {
    const uri = naming(uniqueDbName('bench_named'));
    const db = await benchDb(uri);
    const { token } = await new TokenStore(db.conn).create(
      { name: 'bench', access: 'read', actor: actor() },
      ['production'],
    );
    // The API peer exactly as the bench starts it (scripts/bench.ts, apiFigures).
    const peer = spawnTs('scripts/bench-peer.ts', [
      JSON.stringify({ mode: 'api', uri, dbName: db.name, intervalMs: 100 }),
    ]);
    onTestFinished(async () => {
      peer.proc.stdin.write('stop\n');
      await peer.closed();
    });
    const { url } = JSON.parse(await peer.nextLine(60_000, 'the API address')) as { url: string };
    const res = await fetch(`${url}/v1/config/MAX_BATCH_SIZE`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(db.name).toBe(new ConnectionString(uri).pathname.slice(1));
  });

  it('is a fresh bench_<time> database when the URI names none', async () => {
    const db = await benchDb(inject('mongoUri'));
    expect(db.name).toMatch(/^bench_\d+$/);
  });

  it('refuses a named database that already holds data, which it would drop', async () => {
    const name = uniqueDbName('bench_taken');
    const other = await connect({ uri: inject('mongoUri'), dbName: name, timeoutMs: 3000 });
    onTestFinished(async () => {
      await other.dropDatabase();
      await other.close();
    });
    await other.collection('system_configs').insertOne({ _id: 'MAX_BATCH_SIZE' as never, value: 1 });
    await expect(openBenchDatabase(naming(name))).rejects.toThrow(
      new RegExp(`MONGODB_URI names the database ${name}, which holds 1 collection`),
    );
    expect(await other.collection('system_configs').countDocuments()).toBe(1);
  });
});

describe('npm run bench, its arguments', () => {
  it('takes --json and --quick, and refuses a misspelt option before running anything (exit 2)', async () => {
    expect(benchArgs(['--json', '--quick'])).toEqual({ json: true, quick: true });
    expect(benchArgs([])).toEqual({ json: false, quick: false });
    expect(() => benchArgs(['--json=yes'])).toThrow(ArgsError);
    // A real run takes minutes: a bench that ignored the option would still be running at the timeout.
    const r = await runScript('scripts/bench.ts', ['--jsno'], { timeoutMs: 30_000 });
    expect(r).toMatchObject({
      code: 2,
      stderr: 'Unknown option --jsno. Known options: --json, --quick, --help (-h).\n',
      stdout: '',
    });
  });
});
