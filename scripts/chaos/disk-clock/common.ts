/**
 * What the DATA_DIR and clock-skew faults share: real child processes (the API, a bot-like peer)
 * on loopback, their output kept for the log checks, HTTP calls that never throw, mounts that
 * are always undone, and the accounting of stack traces.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ROOT, spawnProc, stackLines as stackFrames, type Proc } from '../lib/procs.js';

export { ROOT };

const run = promisify(execFile);

/** libfaketime, when installed (apt-get install faketime). */
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/** How a child's clock is shifted: libfaketime when installed, else a preload that shifts Date. */
export const clockTool = existsSync(FAKETIME_LIB) ? 'libfaketime' : 'a Date-shifting preload';

export interface Child {
  readonly name: string;
  /** The process as the suite's registry holds it (ended by the runner on any way out). */
  readonly proc: Proc;
  /** Every stderr line so far (log lines). */
  readonly errLines: string[];
  /** The next stdout line matching `pattern` (earlier ones are consumed), or undefined at the timeout. */
  line(pattern: RegExp, timeoutMs: number): Promise<string | undefined>;
  /** Writes one line to its stdin. */
  send(text: string): void;
  exited(): boolean;
  /** Resolves with how it ended (`exit 0`, `SIGKILL`) once it has exited. */
  done: Promise<string>;
  /** SIGTERM, then SIGKILL to its process group after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Minutes the child's clock runs ahead (negative: behind). */
  skewMin?: number;
}

/** Starts `node --import tsx <file>` in the repository with `env`, through the suite's process registry. */
export function spawnTs(file: string, env: Record<string, string>, opts: SpawnOptions = {}): Child {
  const skew = opts.skewMin ?? 0;
  const clock: Record<string, string> = {};
  const preload: string[] = [];
  if (skew && clockTool === 'libfaketime') {
    Object.assign(clock, {
      LD_PRELOAD: FAKETIME_LIB,
      FAKETIME: `${skew > 0 ? '+' : ''}${skew}m`,
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
      FAKETIME_DONT_RESET: '1',
    });
  } else if (skew) {
    clock.CHAOS_CLOCK_SKEW_MS = String(skew * 60_000);
    preload.push('--import', path.join(ROOT, 'scripts/chaos/disk-clock/skew-clock.ts'));
  }
  const name = `${path.basename(file, '.ts')}${skew ? `(${skew > 0 ? '+' : ''}${skew}m)` : ''}`;
  const proc = spawnProc(
    name,
    process.execPath,
    ['--conditions=config-bot-source', '--import', 'tsx', ...preload, path.join(ROOT, file)],
    { ...env, ...clock },
  );
  const child = proc.child;
  const errLines: string[] = [];
  const outLines: string[] = [];
  let wake: (() => void) | undefined;
  if (child.stderr) createInterface({ input: child.stderr }).on('line', (l) => errLines.push(l));
  if (child.stdout)
    createInterface({ input: child.stdout }).on('line', (l) => {
      outLines.push(l);
      wake?.();
    });
  const done = proc.exited.then(({ code, signal }) => signal ?? `exit ${code}`);
  const exited = () => !proc.running();
  return {
    name,
    proc,
    errLines,
    done,
    exited,
    send: (text) => void child.stdin?.write(`${text}\n`),
    async line(pattern, timeoutMs) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const at = outLines.findIndex((l) => pattern.test(l));
        if (at >= 0) return outLines.splice(0, at + 1).at(-1);
        if (exited() || Date.now() >= until) return undefined;
        await Promise.race([new Promise<void>((r) => (wake = r)), sleep(Math.min(200, until - Date.now()))]);
      }
    },
    stop: () => proc.stop(5000),
  };
}

export interface Answer {
  /** 0: no answer (connection refused or reset, or no answer within the timeout). */
  status: number;
  body: string;
  json: Record<string, unknown> | undefined;
}

/** One HTTP call to a child on loopback; never throws. */
export async function call(
  port: number,
  route: string,
  opts: { token?: string; method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<Answer> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${route}`, {
      method: opts.method ?? 'GET',
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 8000),
    });
    const body = await res.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { status: res.status, body, json };
  } catch (err) {
    return { status: 0, body: err instanceof Error ? err.message : String(err), json: undefined };
  }
}

/** A refusal as the API promises it: a code and a plain message, no stack. */
export function isPlainRefusal(a: Answer): boolean {
  const error = a.json?.error as { code?: unknown; message?: unknown } | undefined;
  return (
    a.status >= 400 &&
    typeof error?.code === 'string' &&
    typeof error.message === 'string' &&
    error.message.length > 0 &&
    stackFrames(a.body) === 0
  );
}

/** Polls `check` every 100 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await sleep(100);
  }
}

/** Waits for the API child to answer /readyz 200; false when it exited or timed out. */
export async function apiReady(child: Child, port: number, timeoutMs = 30_000): Promise<boolean> {
  const ok = await until(
    async () => child.exited() || (await call(port, '/readyz', { timeoutMs: 2000 })).status === 200,
    timeoutMs,
  );
  return ok && !child.exited();
}

/** Runs a command (mount, umount); resolves with its error text, or undefined on success. */
export async function sh(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    await run(cmd, args, { timeout: 10_000 });
    return undefined;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return (e.stderr?.trim() || e.message).split('\n')[0];
  }
}

export const isRoot = () => process.getuid?.() === 0;

/** Undoes what a row set up, in reverse order, each step whatever happened before it. */
export class Cleanup {
  private readonly steps: (() => Promise<unknown>)[] = [];
  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step().catch(() => undefined);
  }
}

/** Mounts a tmpfs of `size` at `dir` (root only); the unmount is registered with `cleanup`. */
export async function mountTmpfs(dir: string, size: string, cleanup: Cleanup): Promise<string | undefined> {
  if (!isRoot()) return 'not root: a tmpfs cannot be mounted';
  const failed = await sh('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  if (failed) return `mount failed: ${failed}`;
  cleanup.add(async () => {
    // Busy for a moment after its last process exits: retried, then lazily detached.
    for (let i = 0; i < 10; i++) {
      if (!(await sh('umount', [dir]))) return;
      await sleep(200);
    }
    await sh('umount', ['-l', dir]);
  });
  return undefined;
}

/** How many of `lines` are stack frames. */
export function stackLines(lines: readonly string[]): number {
  return stackFrames(lines.join('\n'));
}

/** Detaches every mount under `dir` (a run stopped before its own cleanup); root only. */
export async function unmountUnder(dir: string): Promise<void> {
  if (!isRoot()) return;
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  const root = path.resolve(dir);
  for (const line of mounts.split('\n')) {
    const at = line.split(' ')[1]?.replace(/\\040/g, ' ');
    if (at && (at === root || at.startsWith(`${root}/`))) await sh('umount', ['-l', at]);
  }
}
