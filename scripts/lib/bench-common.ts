import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ConfigService } from '../../src/config/service.js';
import { TokenStore, type TokenAccess } from '../../src/tokens/tokens.js';

/** What every step of the bench is told: how big a run, and where its progress lines go. */
export interface BenchRun {
  quick: boolean;
  /** Progress and breakdowns, on stderr; silent with --json. */
  say(s: string): void;
}

export const BENCH_ADMIN = { id: '100000000000000001', tag: 'bench' };

/** The key every propagation figure commits to (low impact: applied at once, no approval). */
export const PROPAGATION_KEY = 'IMMEDIATE_EXPORT_BUFFER';

export function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

/** A pause of 100 to 200 ms, random: commits spread over the followers' poll cycles. */
export const commitGap = () => sleep(100 + Math.random() * 100);

/** What a peer prints on stdout: one JSON object a line. */
export type PeerMessage = Record<string, unknown>;

/** A change a follower applied, as it prints it (`at`: its Date.now(), same machine clock). */
export interface ChangeLine {
  change: string;
  scope: string;
  version: number;
  at: number;
}

/**
 * A helper process (scripts/bench-peer.ts), started as this script runs: compiled by `npm run
 * bench`, or through tsx if started so. It inherits the environment, so it does not read .env
 * again. Lines with `change` go to `onChange`; the others are answers, taken in order by next().
 */
export class Peer {
  readonly done: Promise<number>;
  onChange: ((c: ChangeLine) => void) | undefined;
  private readonly proc: ChildProcess;
  private readonly queue: PeerMessage[] = [];
  private readonly waiting: { resolve(m: PeerMessage): void; reject(e: Error): void }[] = [];
  private ended = false;

  constructor(args: { mode: string } & Record<string, unknown>) {
    const here = fileURLToPath(import.meta.url);
    const script = path.join(path.dirname(here), '..', `bench-peer${path.extname(here)}`);
    const runtime = process.execArgv.filter((a) => !a.startsWith('--env-file'));
    this.proc = spawn(process.execPath, [...runtime, script, JSON.stringify(args)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    // A peer that is gone reads no more commands; writing to it must not end the bench.
    this.proc.stdin?.on('error', () => undefined);
    if (this.proc.stdout) createInterface({ input: this.proc.stdout }).on('line', (l) => this.take(l));
    this.done = new Promise((resolve) =>
      // 'close': after its stdout is read to the end, so no answer is lost.
      this.proc.once('close', (code) => {
        this.ended = true;
        for (const w of this.waiting.splice(0))
          w.reject(new Error(`bench peer (${args.mode}) ended (exit ${code}) before answering`));
        resolve(code ?? 1);
      }),
    );
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** The next answer (not a change line). */
  next(): Promise<PeerMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(new Error('bench peer ended'));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Sends one command line and waits for its answer. */
  ask(command: string): Promise<PeerMessage> {
    this.write(command);
    return this.next();
  }

  write(line: string): void {
    if (!this.ended) this.proc.stdin?.write(`${line}\n`);
  }

  async stop(): Promise<number> {
    this.write('stop');
    return this.done;
  }

  private take(line: string): void {
    let msg: PeerMessage;
    try {
      msg = JSON.parse(line) as PeerMessage;
    } catch {
      process.stderr.write(`${line}\n`); // not an answer: a stray line, shown as it is
      return;
    }
    if (typeof msg.change === 'string') {
      this.onChange?.(msg as unknown as ChangeLine);
      return;
    }
    const w = this.waiting.shift();
    if (w) w.resolve(msg);
    else this.queue.push(msg);
  }
}

/** Starts `n` peers and waits for each one's first line (ready, or its address). */
export async function startPeers(
  n: number,
  args: { mode: string } & Record<string, unknown>,
): Promise<{ peers: Peer[]; first: PeerMessage[] }> {
  const peers = Array.from({ length: n }, () => new Peer(args));
  const first = await Promise.all(peers.map((p) => p.next()));
  return { peers, first };
}

let ticks: number | undefined;

/** CPU time (user + system, ms) a process has used, from /proc; undefined where there is none. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    // Fields 14 and 15 of the file (utime, stime) are the 12th and 13th after the name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
  } catch {
    return undefined;
  }
}

/** A process's CPU over a window, as % of one core; undefined when it cannot be read. */
export function cpuWindow(pid: number | undefined): () => number | undefined {
  const cpu0 = pid === undefined ? undefined : processCpuMs(pid);
  const t0 = performance.now();
  return () => {
    const cpu1 = pid === undefined ? undefined : processCpuMs(pid);
    if (cpu0 === undefined || cpu1 === undefined) return undefined;
    return ((cpu1 - cpu0) / (performance.now() - t0)) * 100;
  };
}

/** A new API token of the bench (`bench-<n>-<time>`), as `/config token create` makes one. */
export async function benchToken(config: ConfigService, access: TokenAccess, n = 0): Promise<string> {
  const { token } = await new TokenStore(config.conn).create(
    { name: `bench-${n}-${Date.now()}`.slice(0, 32), access, actor: BENCH_ADMIN },
    config.environments,
  );
  return token;
}

/** An API process (scripts/lib/bench-peer-api.ts) and its address. */
export async function startApiPeer(d: {
  uri: string;
  dbName: string;
  intervalMs: number;
}): Promise<{ peer: Peer; url: string }> {
  const peer = new Peer({ mode: 'api', uri: d.uri, dbName: d.dbName, intervalMs: d.intervalMs });
  const { url } = (await peer.next()) as { url: string };
  return { peer, url };
}
