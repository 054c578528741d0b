import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** Resolves with the next line the child prints on stdout. */
  nextLine(): Promise<string>;
  stderr(): string;
}

/** Runs a TypeScript file as a separate node process (through tsx), reading its stdout by lines. */
export function spawnTs(file: string, args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  createInterface({ input: proc.stdout }).on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else lines.push(l);
  });
  return {
    proc,
    stderr: () => err,
    nextLine: () =>
      new Promise((resolve, reject) => {
        const l = lines.shift();
        if (l !== undefined) return resolve(l);
        waiters.push(resolve);
        proc.once('exit', (code) =>
          reject(new Error(`child exited (${code}) before printing: ${err.slice(-2000)}`)),
        );
      }),
  };
}
