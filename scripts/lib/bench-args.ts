import { readArgs } from './args.js';

export const BENCH_USAGE = 'usage: npm run bench [-- --json] [-- --quick]';

/** What `npm run bench` was asked for, or 'help'; throws ArgsError (one line) for anything else. */
export function benchArgs(argv: string[]): { json: boolean; quick: boolean } | 'help' {
  const { values } = readArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return values.help ? 'help' : { json: values.json, quick: values.quick };
}
