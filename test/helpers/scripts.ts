import { execFile } from 'node:child_process';

export interface ScriptRun {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs an entry point as a user would, in a separate node process through tsx (what `npm run`
 * runs), with the given environment on top of this one. Nothing from a local .env is read.
 */
export function runScript(
  script: string,
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {},
): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 60_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0,
          signal: child.signalCode,
          stdout,
          stderr,
        }),
    );
    child.stdin?.end(opts.stdin ?? '');
  });
}

/** True when text carries something only a crash dump would: a stack frame, an error class dump. */
export function looksLikeStackTrace(text: string): boolean {
  return /^\s+at .+\(.+:\d+:\d+\)|^\s+at [^\s]+:\d+:\d+|Node\.js v\d+|\w+Error: .*\n\s+at |problems: \[/m.test(
    text,
  );
}
