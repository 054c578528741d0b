/**
 * The fault suite's processes: every process a scenario starts (API and bot processes, scripts,
 * database servers) is a real OS process in a process group of its own, registered here, so the
 * runner can end every one of them (and whatever they started, such as an embedded FerretDB) on
 * any way out: normal end, a failure, Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A stack frame line, as Node prints them (`    at fn (file.ts:1:2)` or `    at file.ts:1:2`). */
export const STACK_LINE = /^\s+at (?:.+ \()?(?:file:\/\/|node:|\/|[A-Za-z]:\\)[^\s]*:\d+:\d+\)?$/gm;

/** How many stack frame lines `text` holds. */
export function stackLines(text: string): number {
  return text.match(STACK_LINE)?.length ?? 0;
}

/** How much of a process's output is kept (the end of it). */
const KEPT = 512 * 1024;

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** stdout and stderr as printed so far, interleaved (the last 512 kB). */
  output(): string;
  /** stdout alone (the last 512 kB). */
  stdout(): string;
  /** Resolves with the first match of `re` in the output (earlier output included). */
  waitFor(re: RegExp, timeoutMs: number, what?: string): Promise<RegExpExecArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** Sends a signal to this process alone (its children, if any, are left as a crash leaves them). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL to its whole group after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Proc>();

/** Every process group this run started and that may still hold a process. */
export function liveProcesses(): readonly Proc[] {
  return [...live];
}

/** Ends every process group this run started, at once (SIGCONT first: a stopped process holds its signals). */
export function killAll(): void {
  for (const p of live) {
    for (const sig of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        process.kill(-p.pid, sig);
      } catch {
        // the group is gone already
      }
    }
  }
  live.clear();
}

/** The project's root (scripts/chaos/lib/../../..). */
export const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

/** The variables every child gets: nothing from this process's .env or shell beyond these. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])));
}

/** Starts a program in a process group of its own, its output collected. */
export function spawnProc(name: string, file: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(file, args, {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`${name} could not be started (${file})`);
  const pid = child.pid;
  let all = '';
  let out = '';
  const waiters = new Set<() => void>();
  const took = (d: Buffer, toStdout: boolean) => {
    const s = d.toString();
    all = (all + s).slice(-KEPT);
    if (toStdout) out = (out + s).slice(-KEPT);
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', (d: Buffer) => took(d, true));
  child.stderr?.on('data', (d: Buffer) => took(d, false));
  child.stdin?.on('error', () => undefined);
  // Its output is read to the end once its pipes close (or soon after it exits, should something
  // it started hold them): a waiter told "it exited" sees everything it printed.
  let ended = false;
  const end = () => {
    ended = true;
    for (const w of [...waiters]) w();
  };
  child.once('close', end);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      setTimeout(end, 300).unref();
      resolve({ code, signal });
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const proc: Proc = {
    name,
    pid,
    child,
    output: () => all,
    stdout: () => out,
    exited,
    running,
    waitFor(re, timeoutMs, what = String(re)) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = new RegExp(re.source, re.flags.replace('g', '')).exec(all);
          if (m) return done(() => resolve(m));
          if (!running() && ended)
            return done(() =>
              reject(
                new Error(
                  `${name} exited (${child.exitCode ?? child.signalCode}) before ${what}:\n${all.slice(-3000)}`,
                ),
              ),
            );
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(new Error(`${name} did not print ${what} within ${timeoutMs} ms:\n${all.slice(-3000)}`)),
            ),
          timeoutMs,
        );
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    signal(sig) {
      try {
        process.kill(pid, sig);
      } catch {
        // it has exited
      }
    },
    async stop(graceMs = 5000) {
      if (running()) {
        proc.signal('SIGCONT');
        proc.signal('SIGTERM');
        await Promise.race([exited, sleep(graceMs)]);
      }
      // Whatever it left behind in its group (an embedded database it started) goes with it.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // nothing left
      }
      await Promise.race([exited, sleep(1000)]);
      live.delete(proc);
    },
  };
  live.add(proc);
  return proc;
}

/** Runs a TypeScript entry point of the project through tsx, as the npm scripts do. */
export function spawnTs(name: string, file: string, args: string[], env: Record<string, string>): Proc {
  return spawnProc(
    name,
    process.execPath,
    ['--conditions=config-bot-source', '--import', 'tsx', path.join(ROOT, file), ...args],
    env,
  );
}

/** Pids of the processes whose parent is `pid` (Linux /proc). */
export async function childPids(pid: number): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command may hold spaces and parentheses: the fields after the last ')' are fixed.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(entry));
  }
  return out;
}

/** Whether a process with this pid exists (and is not a zombie). */
export async function alive(pid: number): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}
