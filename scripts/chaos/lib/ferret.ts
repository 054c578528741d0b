/**
 * A private FerretDB for one scenario: its own SQLite directory, a free loopback port, started
 * with the flags the embedded database uses (src/storage/embedded.ts), and faults on it: SIGKILL,
 * SIGSTOP/SIGCONT, a restart on the same port and files.
 */
import { mkdirSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFerretdb, freePort } from '../../../src/storage/embedded.js';
import { spawnProc, type Proc } from './procs.js';

export interface PrivateDb {
  /** mongodb://127.0.0.1:PORT/ (append a database name). */
  readonly uri: string;
  readonly port: number;
  readonly dir: string;
  /** The server's pid while it runs. */
  pid(): number | undefined;
  /** SIGKILL: no shutdown, writes cut where they are. Resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGSTOP: the port stays open, nothing is answered. */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port and files, once it has been killed. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Why no FerretDB can be started here, or undefined when one can. */
export function ferretUnavailable(): string | undefined {
  return findFerretdb(process.env.FERRETDB_PATH, process.env.PATH)
    ? undefined
    : 'no ferretdb binary (npm run db:ferretdb builds one into .tools/bin)';
}

export async function waitForPort(port: number, timeoutMs: number, down?: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (down?.()) throw new Error(`the server on port ${port} exited while starting`);
    const open = await new Promise<boolean>((resolve) => {
      const sock = tcpConnect(port, '127.0.0.1');
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(30);
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}

/** Starts FerretDB on SQLite files in `dir` (created), on a free loopback port. */
export async function startPrivateDb(dir: string): Promise<PrivateDb> {
  const bin = findFerretdb(process.env.FERRETDB_PATH, process.env.PATH);
  if (!bin) throw new Error(ferretUnavailable());
  const files = path.resolve(dir);
  mkdirSync(files, { recursive: true });
  const port = await freePort();
  let proc: Proc | undefined;
  const start = async () => {
    const p = spawnProc(
      `ferretdb:${port}`,
      bin,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${files}/`,
        `--listen-addr=127.0.0.1:${port}`,
        '--debug-addr=-',
        '--telemetry=disable',
        `--state-dir=${files}`,
        '--log-level=error',
      ],
      {},
    );
    proc = p;
    await waitForPort(port, 20_000, () => !p.running());
  };
  await start();
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    dir: files,
    pid: () => (proc?.running() ? proc.pid : undefined),
    async kill() {
      const p = proc;
      if (!p?.running()) return;
      p.signal('SIGKILL');
      await p.exited;
      await p.stop(0);
    },
    pause: () => proc?.signal('SIGSTOP'),
    resume: () => proc?.signal('SIGCONT'),
    async restart() {
      if (proc?.running()) throw new Error('restart of a database server that still runs');
      await start();
    },
    async stop() {
      await proc?.stop(3000);
    },
  };
}
