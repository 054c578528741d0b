import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export interface ScriptRun {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * How a separate node process runs a TypeScript file: `tsx`, through tsx's loader, as `npm run`
 * runs the entry points; `build`, from this run's transpile of the same sources
 * (test/setup/script-build.ts), which starts about 1 s of CPU sooner and behaves the same.
 */
export type Via = 'tsx' | 'build';

/**
 * The node arguments that run `file` (a path from the working directory). Unless told: entry
 * points (scripts/, src/, examples/) through tsx, test fixtures from the build. A file the build
 * does not have (none this run, or outside the project) runs through tsx.
 */
export function nodeArgs(file: string, via?: Via): string[] {
  const rel = path.relative(ROOT, path.resolve(file));
  const built = (via ?? (rel.startsWith(`test${path.sep}`) ? 'build' : 'tsx')) === 'build' && builtFile(rel);
  return built ? [built] : ['--import', 'tsx', file];
}

function builtFile(rel: string): string | undefined {
  let dir: string;
  try {
    dir = inject('scriptBuild');
  } catch {
    return undefined; // outside a vitest worker
  }
  if (!dir || rel.startsWith('..') || !/\.(ts|tsx|mts)$/.test(rel)) return undefined;
  const file = path.join(dir, rel.replace(/\.(ts|tsx|mts)$/, '.js'));
  return existsSync(file) ? file : undefined;
}

/**
 * Runs an entry point as a user would, in a separate node process (through tsx, as `npm run`
 * does, or with `via: 'build'` from this run's build: see `nodeArgs`), with the given environment
 * on top of this one. Nothing from a local .env is read.
 */
export function runScript(
  script: string,
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; timeoutMs?: number; via?: Via } = {},
): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...nodeArgs(script, opts.via), ...args],
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
