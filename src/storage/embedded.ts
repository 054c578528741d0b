import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../base/logger.js';

export type EmbeddedKind = 'mongodb-memory-server' | 'ferretdb';

/** A database server this process started and owns. */
export interface EmbeddedServer {
  readonly kind: EmbeddedKind;
  readonly uri: string;
  /** Where the server keeps its files. */
  readonly dataDir: string;
  stop(): Promise<void>;
  /** Kills it with SIGKILL, as a crash or an OOM kill would: no shutdown, writes cut where they are. */
  kill(): Promise<void>;
  /** Starts it again on the same port and files (used by fault tests and after a crash). */
  restart(): Promise<void>;
  /** The server's process id while it runs (undefined when stopped or not known). */
  readonly pid: number | undefined;
}

export interface EmbeddedOptions {
  dataDir: string;
  prefer: 'auto' | EmbeddedKind;
  ferretdbPath?: string;
  /** The PATH to search for ferretdb. */
  searchPath?: string;
  port?: number;
}

export class NoEmbeddedDatabaseError extends Error {
  constructor(detail: string) {
    super(
      `no embedded database could be started (${detail}): set MONGODB_URI to a MongoDB server, or install FerretDB with npm run db:ferretdb (needs Go), or let mongodb-memory-server download mongod (needs internet)`,
    );
    this.name = 'NoEmbeddedDatabaseError';
  }
}

/**
 * Starts a database that keeps its files in `dataDir`. In `auto`: a mongod that is already on this
 * machine (mongodb-memory-server's cache or system binary), else FerretDB if installed, else
 * mongodb-memory-server with a download. The download is last so that nothing reaches the
 * network when a local server is available.
 */
export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const ferret = findFerretdb(opts.ferretdbPath, opts.searchPath);
  if (opts.prefer === 'ferretdb') {
    if (!ferret) throw new NoEmbeddedDatabaseError('EMBEDDED_DB=ferretdb but no ferretdb binary was found');
    return startFerretdb(ferret, opts.dataDir, opts.port);
  }
  if (opts.prefer === 'mongodb-memory-server' || (await findMongod()) || !ferret) {
    try {
      return await startMongoMemoryServer(opts.dataDir, opts.port);
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      if (opts.prefer === 'mongodb-memory-server' || !ferret)
        throw new NoEmbeddedDatabaseError(`mongod: ${why}`);
    }
  }
  return startFerretdb(ferret, opts.dataDir, opts.port);
}

/** A mongod that mongodb-memory-server can use without downloading, if any. */
export async function findMongod(): Promise<string | undefined> {
  const { DryMongoBinary } = await import('mongodb-memory-server');
  return DryMongoBinary.locateBinary(DryMongoBinary.getEnsuredOptions());
}

/** FERRETDB_PATH, then the project's .tools/bin (npm run db:ferretdb), then ~/go/bin, then PATH. */
export function findFerretdb(explicit: string | undefined, searchPath = ''): string | undefined {
  const pathDirs = searchPath.split(path.delimiter).filter(Boolean);
  const candidates = [
    ...(explicit ? [explicit] : []),
    path.resolve('.tools/bin/ferretdb'),
    path.join(homedir(), 'go/bin/ferretdb'),
    ...pathDirs.map((d) => path.join(d, 'ferretdb')),
  ];
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Ended, by its own exit or by a signal (then exitCode stays null). */
const hasExited = (proc: ChildProcess) => proc.exitCode !== null || proc.signalCode !== null;

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(child))
      throw new Error(`ferretdb exited (${child.exitCode ?? child.signalCode}) while starting`);
    const open = await new Promise<boolean>((resolve) => {
      const sock = tcpConnect(port, '127.0.0.1');
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`ferretdb did not listen on port ${port} within ${timeoutMs} ms`);
}

const RESTART_BACKOFF_MAX_MS = 30_000;

/** A running FerretDB's record, next to its files: named by its pid, holding the pid of the process that owns it. */
const ownerFile = (dir: string, pid: number) => path.join(dir, `ferretdb-${pid}.owner`);

/** The command line of a process, or '' when there is none (or it cannot be read here). */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    try {
      return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
    } catch {
      return '';
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Ends each FerretDB that a process killed without notice (SIGKILL, an OOM kill) left serving
 * these files: it would otherwise outlive it for good, one more after every such restart, next to
 * the new server on the same files. A server whose owner still runs (a script next to the bot on
 * one DATA_DIR) is left alone, and so is a pid now used by another program.
 */
async function endLeftovers(dir: string): Promise<void> {
  for (const name of readdirSync(dir)) {
    const pid = Number(/^ferretdb-(\d+)\.owner$/.exec(name)?.[1]);
    if (!pid) continue;
    const owner = Number(readFileSync(path.join(dir, name), 'utf8').trim());
    const serving = () => commandOf(pid).includes(`--sqlite-url=file:${dir}/`);
    if (serving() && owner && isRunning(owner)) continue;
    if (serving()) {
      logger.warn(
        `Stopping the FerretDB (pid ${pid}) left on ${dir} by a process that ended without stopping it`,
      );
      for (const [signal, waitMs] of [
        ['SIGTERM', 5000],
        ['SIGKILL', 2000],
      ] as const) {
        if (!serving()) break;
        try {
          process.kill(pid, signal);
        } catch {
          break; // it ended meanwhile
        }
        for (const until = Date.now() + waitMs; Date.now() < until && serving();) await sleep(50);
      }
    }
    rmSync(path.join(dir, name), { force: true });
  }
}

/**
 * Starts FerretDB on SQLite files in `dataDir` and supervises it: if it exits without being asked
 * to (a crash, an OOM kill), it is started again on the same port and files, backing off up to
 * 30 s between failed attempts, each logged; the driver then reconnects by itself. It is killed
 * when this process exits.
 */
export async function startFerretdb(bin: string, dataDir: string, port?: number): Promise<EmbeddedServer> {
  const dir = path.resolve(dataDir, 'ferretdb');
  mkdirSync(dir, { recursive: true });
  const listenPort = port ?? (await freePort());
  let child: ChildProcess | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let backoff = 1000;
  const killOnExit = () => child?.kill('SIGKILL');

  const start = async () => {
    clearTimeout(restartTimer);
    await endLeftovers(dir);
    const proc = spawn(
      bin,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${dir}/`,
        `--listen-addr=127.0.0.1:${listenPort}`,
        '--debug-addr=-',
        '--telemetry=disable',
        // Its state file (telemetry id) goes next to the data, not into the working directory.
        `--state-dir=${dir}`,
        '--log-level=error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    proc.stderr?.resume();
    process.removeListener('exit', killOnExit);
    process.once('exit', killOnExit);
    await waitForPort(listenPort, proc);
    if (proc.pid) writeFileSync(ownerFile(dir, proc.pid), `${process.pid}\n`);
    // Watched only once it serves: a failure to start is the caller's to handle.
    proc.once('exit', (code, signal) => {
      if (proc !== child) return; // stopped or killed on purpose
      logger.warn(
        `Embedded FerretDB exited unexpectedly (${signal ?? `code ${code}`}); restarting in ${backoff / 1000} s`,
      );
      scheduleRestart();
    });
  };

  const scheduleRestart = () => {
    restartTimer = setTimeout(() => {
      start().then(
        () => {
          logger.info(`Embedded FerretDB restarted on port ${listenPort}`);
          backoff = 1000;
        },
        (err: unknown) => {
          backoff = Math.min(backoff * 2, RESTART_BACKOFF_MAX_MS);
          logger.error(
            `Embedded FerretDB did not restart (${err instanceof Error ? err.message : String(err)}); next try in ${backoff / 1000} s`,
          );
          scheduleRestart();
        },
      );
    }, backoff);
    restartTimer.unref();
  };
  await start();

  /** SIGTERM waits up to 5 s for a clean shutdown; SIGKILL is a crash. Neither is restarted. */
  const end = async (signal: 'SIGTERM' | 'SIGKILL') => {
    clearTimeout(restartTimer);
    const proc = child;
    child = undefined;
    process.removeListener('exit', killOnExit);
    if (proc?.pid) rmSync(ownerFile(dir, proc.pid), { force: true });
    if (!proc || hasExited(proc)) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    if (!hasExited(proc)) proc.kill('SIGKILL');
  };

  return {
    kind: 'ferretdb',
    uri: `mongodb://127.0.0.1:${listenPort}/`,
    dataDir: dir,
    get pid() {
      return child?.pid;
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: start,
  };
}

export async function startMongoMemoryServer(dataDir: string, port?: number): Promise<EmbeddedServer> {
  const { MongoMemoryServer } = await import('mongodb-memory-server');
  const dir = path.resolve(dataDir, 'mongodb');
  mkdirSync(dir, { recursive: true });
  const server = await MongoMemoryServer.create({
    instance: { dbPath: dir, storageEngine: 'wiredTiger', ip: '127.0.0.1', ...(port ? { port } : {}) },
  });
  return {
    kind: 'mongodb-memory-server',
    uri: server.getUri(),
    dataDir: dir,
    // doCleanup false: the data directory is the user's data, kept across restarts.
    stop: async () => void (await server.stop({ doCleanup: false })),
    async kill() {
      const proc = server.instanceInfo?.instance.mongodProcess;
      if (!proc || hasExited(proc)) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await exited;
      await server.stop({ doCleanup: false }).catch(() => undefined);
    },
    restart: async () => void (await server.start(true)),
    get pid() {
      return server.instanceInfo?.instance.mongodProcess?.pid;
    },
  };
}
