import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Arguments a script cannot use: said in one line (exit 2), never with a stack. */
export class ArgsError extends Error {}

/** `--json, --as VALUE, --yes (-y)`: the options a script takes, in one line. */
export function knownOptions(options: Options): string {
  return Object.entries(options)
    .map(
      ([name, o]) =>
        `--${name}${o.type === 'string' ? ' VALUE' : ''}${o.short ? ` (-${o.short})` : ''}${o.multiple ? ' (repeatable)' : ''}`,
    )
    .join(', ');
}

/**
 * A script's arguments, read by node:util parseArgs (`--name=value` and `--name value` both
 * work). An unknown option, a missing value or a word where none is taken throws ArgsError,
 * one line naming the options the script knows.
 */
export function readArgs<T extends ParseArgsConfig & { args: string[]; options: Options }>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>(config);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS_')) throw err;
    // Node's own sentence for an unknown option goes on about positionals; the option is enough.
    const message =
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? `Unknown option ${/'([^']+)'/.exec((err as Error).message)?.[1] ?? ''}`
        : (err as Error).message.replace(/\.$/, '');
    throw new ArgsError(`${message}. Known options: ${knownOptions(config.options)}.`);
  }
}
