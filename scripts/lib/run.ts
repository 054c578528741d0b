import { EnvError } from '../../src/env.js';

/**
 * Runs a script's main() and exits with its code. An environment problem prints its list of
 * problems; anything else prints its stack (scripts are for operators, not Discord users).
 */
export function runScript(main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      const text =
        err instanceof EnvError
          ? err.message
          : err instanceof Error
            ? (err.stack ?? err.message)
            : String(err);
      process.stderr.write(`${text}\n`);
      process.exit(1);
    },
  );
}
