/**
 * A scenario's system: a private database, API and bot processes over it (real OS processes, as
 * `npm run api` and `npm start` without Discord run them), and a write token for the load.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '../../../src/storage/connection.js';
import { freePort } from '../../../src/storage/embedded.js';
import { TokenStore } from '../../../src/tokens/tokens.js';
import { startPrivateDb, type PrivateDb } from './ferret.js';
import { spawnTs, stackLines, type Proc } from './procs.js';

/** Environments of the scenario's processes: the load writes one slot per environment. */
export const ENVIRONMENTS = ['production', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8'];

/** The API processes' entry points: the API alone, and the bot (which serves the API without Discord). */
export const ENTRY = { api: 'scripts/api.ts', bot: 'src/index.ts' } as const;

export interface Server {
  readonly name: string;
  readonly entry: keyof typeof ENTRY;
  readonly dataDir: string;
  url: string;
  proc: Proc;
  /** Output of earlier runs of this server (before restarts). */
  earlier: string;
}

export interface ClusterOptions {
  /** A directory of the scenario's own (created). */
  dir: string;
  /** Processes to run: each serves the API. */
  servers: (keyof typeof ENTRY)[];
  /** More variables for every process (DB_TIMEOUT_MS, APPROVALS_REQUIRED...). */
  vars?: Record<string, string>;
  log(line: string): void;
}

export interface Cluster {
  readonly db: PrivateDb;
  readonly dbName: string;
  /** The database's URI with its name. */
  readonly uri: string;
  readonly token: string;
  readonly servers: Server[];
  /** The variables every process of this cluster is started with. */
  readonly env: Record<string, string>;
  /** The URLs of the servers that run. */
  urls(): string[];
  /** Starts a server again over its DATA_DIR (after a kill), on a new port. */
  restart(s: Server): Promise<number>;
  /** Stack frame lines in everything the servers printed. */
  logStacks(): number;
  stop(): Promise<void>;
}

const LISTENING = /HTTP API listening on (http:\/\/[\d.:]+)/;

/** Starts one API-serving process and waits until it listens; returns how long that took. */
export async function startServer(
  s: Pick<Server, 'name' | 'entry' | 'dataDir'>,
  env: Record<string, string>,
): Promise<{ proc: Proc; url: string; ms: number }> {
  const started = Date.now();
  const port = await freePort();
  const proc = spawnTs(s.name, ENTRY[s.entry], [], { ...env, DATA_DIR: s.dataDir, HTTP_PORT: String(port) });
  const m = await proc.waitFor(LISTENING, 60_000, 'that it listens');
  return { proc, url: m[1] ?? '', ms: Date.now() - started };
}

/** Waits until `token` is accepted by every URL (each process reads new tokens within a second). */
export async function tokenAccepted(
  urls: readonly string[],
  token: string,
  timeoutMs = 20_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const url of urls) {
    for (;;) {
      const res = await fetch(`${url}/v1/config`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
      await res?.arrayBuffer();
      if (res?.status === 200) break;
      if (Date.now() > until)
        throw new Error(`${url} did not accept the load's token within ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}

/** A write token for the load, created in the database the way /config token create does. */
export async function createToken(uri: string, dbName: string): Promise<string> {
  const conn = await connect({ uri, dbName, timeoutMs: 10_000 });
  try {
    const tokens = new TokenStore(conn);
    await tokens.init();
    const { token } = await tokens.create(
      { name: `chaos-${Date.now()}`, access: 'write', actor: { id: 'chaos', tag: 'chaos-suite' } },
      ENVIRONMENTS,
    );
    return token;
  } finally {
    await conn.close();
  }
}

/** The variables of a scenario's processes: loopback, limits out of the load's way. */
export function clusterEnv(uri: string, vars: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'development',
    ...(uri ? { MONGODB_URI: uri } : {}),
    ENVIRONMENTS: ENVIRONMENTS.join(','),
    APPROVALS_REQUIRED: 'none',
    HTTP_HOST: '127.0.0.1',
    // The figures are about faults, not about the per-token limits.
    API_RATE_LIMIT_PER_MIN: '1000000',
    API_WRITES_PER_MIN: '1000000',
    CONFIG_POLL_INTERVAL_MS: '100',
    ...vars,
  };
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  mkdirSync(o.dir, { recursive: true });
  const db = await startPrivateDb(path.join(o.dir, 'db'));
  const servers: Server[] = [];
  try {
    const dbName = `chaos_${path.basename(o.dir).replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 60);
    const uri = `${db.uri}${dbName}`;
    const env = clusterEnv(uri, o.vars);
    const started = await Promise.all(
      o.servers.map(async (entry, i) => {
        const s = { name: `${entry}${i + 1}`, entry, dataDir: path.join(o.dir, `data-${entry}${i + 1}`) };
        const r = await startServer(s, env);
        o.log(`  ${s.name} (${ENTRY[entry]}) listening at ${r.url} after ${r.ms} ms`);
        return { ...s, url: r.url, proc: r.proc, earlier: '' };
      }),
    );
    servers.push(...started);
    const token = await createToken(db.uri, dbName);
    await tokenAccepted(
      servers.map((s) => s.url),
      token,
    );
    return {
      db,
      dbName,
      uri,
      token,
      servers,
      env,
      urls: () => servers.filter((s) => s.proc.running()).map((s) => s.url),
      async restart(s) {
        s.earlier += s.proc.output();
        await s.proc.stop(0);
        const r = await startServer(s, env);
        s.proc = r.proc;
        s.url = r.url;
        return r.ms;
      },
      logStacks: () => servers.reduce((n, s) => n + stackLines(s.earlier + s.proc.output()), 0),
      async stop() {
        await Promise.all(servers.map((s) => s.proc.stop()));
        await db.stop();
      },
    };
  } catch (err) {
    await Promise.all(servers.map((s) => s.proc.stop(0)));
    await db.stop();
    throw err;
  }
}
