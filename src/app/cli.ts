import { env, EnvError, type Env } from './env.js';
import { StartupError, UserError } from '../base/errors.js';
import { errorDetail, logger, useJsonLogs } from '../base/logger.js';

type Cleanup = () => Promise<void> | void;

const cleanups: Cleanup[] = [];
let exiting = false;

/**
 * Registers something to undo on every way out of the process: normal end, an error, SIGINT,
 * SIGTERM or SIGHUP (the embedded database, a runtime). Run in reverse order, each at most once.
 */
export function atExit(fn: Cleanup): void {
  cleanups.push(fn);
}

async function runCleanups(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (err) {
      logger.error('Error while shutting down', errorDetail(err));
    }
  }
}

/** The one line an operator reads for a failure: what went wrong and, where known, what to fix. */
export function problemLine(err: unknown): string {
  if (err instanceof StartupError || err instanceof UserError) return err.message;
  return `Unexpected error: ${String(errorDetail(err).error)}`;
}

async function exit(code: number): Promise<never> {
  exiting = true;
  await runCleanups();
  process.exit(code);
}

export interface EntryOptions {
  /** Exit code after SIGINT/SIGTERM/SIGHUP: 0 for the bot (a normal shutdown), 130 for a script. */
  signalExitCode?: number;
}

/**
 * Runs an entry point (the bot or a script). The environment is parsed first: each problem is
 * printed as one plain line naming its variable, and the process exits 2. A failure prints one
 * line, never a stack (details go to the log at debug level). Signals shut down cleanly: the
 * registered cleanups run (the embedded database is stopped), then the process exits; a second
 * signal exits at once.
 */
export function runEntryPoint(main: (e: Env) => Promise<number | void>, opts: EntryOptions = {}): void {
  let e: Env;
  try {
    e = env();
  } catch (err) {
    const lines = err instanceof EnvError ? err.problems : [problemLine(err)];
    process.stderr.write(`${lines.join('\n')}\n`);
    process.exit(2);
  }
  if (e.NODE_ENV === 'production') useJsonLogs();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (exiting) process.exit(opts.signalExitCode ?? 130);
      logger.info(`${signal} received: shutting down`);
      void exit(opts.signalExitCode ?? 130);
    });
  }
  main(e).then(
    (code) => exit(code ?? 0),
    (err: unknown) => {
      logger.debug('Failure details', errorDetail(err));
      process.stderr.write(`${problemLine(err)}\n`);
      return exit(1);
    },
  );
}
