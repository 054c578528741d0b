/**
 * The offline console: the bot's real command handlers, driven by raw Discord interaction
 * payloads through a real discord.js Client, with its REST calls captured instead of sent.
 *
 *   npm run -s console -- [--json] [--yes] [--as admin|member|USER_ID] [--roles ID,ID] [--guild ID|--dm]
 *                         [--out DIR] [--attach FILE] ["/config ..."]
 *
 * With a command: runs it, prints the replies, exits (0 whenever the bot handled it).
 * Without: reads lines (a prompt with history, or a pipe): /config and /flag commands, `press LABEL`,
 * `complete "/config ..."`. Files the replies carry are saved in --out; `file:@PATH` attaches one.
 */
import { env } from '../src/app/env.js';
import { ArgsError } from './lib/args.js';
import { consoleArgs, USAGE, type ConsoleArgs } from './lib/console-args.js';
import { quietOnClosedPipes } from './lib/pipes.js';
import { runScript } from './lib/run.js';

async function main(): Promise<number> {
  let args: ConsoleArgs | 'help';
  try {
    args = consoleArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (args === 'help') {
    quietOnClosedPipes(() => undefined);
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // The handlers, discord.js and the database driver are loaded once the arguments hold: a
  // mistyped option or --help is answered at once.
  const { runConsole } = await import('./lib/console-main.js');
  return runConsole(env(), args);
}

runScript(main);
