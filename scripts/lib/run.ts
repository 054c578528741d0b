import { runEntryPoint } from '../../src/app/cli.js';

/**
 * Runs a script's main() and exits with its code: a bad environment prints one line per problem,
 * a failure one plain line, never a stack; signals stop what the script started (see cli.ts).
 */
export function runScript(main: () => Promise<number | void>): void {
  runEntryPoint(() => main());
}
