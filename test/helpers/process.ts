import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { keep } from '../setup/test-output.js';
import { nodeArgs, type Via } from './scripts.js';

/** How much of a child's stderr is kept for error messages. */
const STDERR_KEPT = 64 * 1024;
const STDERR_SHOWN = 4000;

export interface Child {
  proc: ChildProcessWithoutNullStreams;
  /**
   * Resolves with the next line the child prints on stdout. Rejects when none arrives within
   * `timeoutMs`, or when the child's stdout closes first; the error names `what`, the child's exit
   * status and the tail of its stderr. A wait that gave up takes no line: the next one printed
   * goes to the next wait.
   */
  nextLine(timeoutMs?: number, what?: string): Promise<string>;
  /** Everything the child printed on stderr so far (its last 64 kB). */
  stderr(): string;
  /** Resolves once the child has exited and its stdout is read to the end (at once if it has). */
  closed(): Promise<void>;
}

interface Waiter {
  resolve(line: string): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Runs a TypeScript file as a separate node process (through tsx, or from this run's build: see
 * `nodeArgs` in scripts.ts), reading its stdout by lines. What it prints on stderr is shown with
 * the test's own output if the test fails.
 */
export function spawnTs(
  file: string,
  args: string[],
  env: Record<string, string> = {},
  opts: { via?: Via } = {},
): Child {
  const proc = spawn(process.execPath, [...nodeArgs(file, opts.via), ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const name = `${file} (pid ${proc.pid ?? '?'})`;
  const lines: string[] = [];
  const waiters: Waiter[] = [];
  let err = '';
  let ended = false;
  let endedAt: number | undefined;
  const hasClosed = new Promise<void>((resolve) => proc.once('close', () => resolve()));

  const status = () =>
    proc.exitCode !== null || proc.signalCode !== null
      ? `exited (${proc.exitCode ?? proc.signalCode})`
      : ended
        ? 'closed its stdout'
        : 'still running';
  const failure = (why: string) =>
    new Error(
      `${name} ${why}; the child has ${status()}${endedAt ? ` since ${new Date(endedAt).toISOString()}` : ''}; ` +
        `its stderr ends with:\n${err.slice(-STDERR_SHOWN) || '(nothing)'}`,
    );

  proc.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-STDERR_KEPT);
  });
  createInterface({ input: proc.stderr }).on('line', (l) => keep(`[${name}] ${l}\n`));
  // Writes to a child that has already exited must not crash the test process.
  proc.stdin.on('error', () => undefined);
  const reader = createInterface({ input: proc.stdout });
  reader.on('line', (l) => {
    const w = waiters.shift();
    if (!w) return void lines.push(l);
    clearTimeout(w.timer);
    w.resolve(l);
  });
  // 'close' of the reader comes after its last line: nothing printed is lost to the end signal.
  reader.once('close', () => {
    ended = true;
    endedAt = Date.now();
    for (const w of waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(failure('ended before printing the line awaited'));
    }
  });

  return {
    proc,
    stderr: () => err,
    closed: () => hasClosed,
    nextLine: (timeoutMs = 10_000, what = 'a line') =>
      new Promise<string>((resolve, reject) => {
        const buffered = lines.shift();
        if (buffered !== undefined) return resolve(buffered);
        if (ended) return reject(failure(`ended before printing ${what}`));
        const waiter: Waiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            const at = waiters.indexOf(waiter);
            if (at >= 0) waiters.splice(at, 1);
            reject(failure(`printed no line within ${timeoutMs} ms while waiting for ${what}`));
          }, timeoutMs),
        };
        waiters.push(waiter);
      }),
  };
}
