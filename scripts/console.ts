/**
 * The offline console: the bot's real command handlers, driven by raw Discord interaction
 * payloads through a real discord.js Client, with its REST calls captured instead of sent.
 *
 *   npm run console -- [--json] [--as admin|member|USER_ID] [--roles ID,ID] [--guild ID|--dm] ["/config ..."]
 *
 * With a command: runs it, prints the replies, exits (0 whenever the bot handled it).
 * Without: reads lines (a prompt, or a pipe): commands, `press LABEL`, `complete "/config ..."`.
 */
import { createInterface } from 'node:readline';
import { splitVerb } from '../src/discord/command-line.js';
import {
  ConsoleInputError,
  renderText,
  type ConsoleSession,
  type ReplyView,
} from '../src/discord/console-session.js';
import type { CapturedCall } from '../src/discord/harness.js';
import { startOffline } from '../src/discord/offline.js';
import { env } from '../src/env.js';
import { startRuntime } from '../src/runtime.js';
import { runScript } from './lib/run.js';

const USAGE = `usage: npm run console -- [--json] [--as admin|member|USER_ID] [--roles ID,ID] [--guild ID | --dm] ["/config view setting:MAX_BATCH_SIZE"]
Interactive lines: a command like /config list, press LABEL_OR_ID, complete "/config view setting:MAX", help, quit`;

interface Args {
  json: boolean;
  as: string;
  roles: string[];
  guildId?: string | null;
  line?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, as: 'admin', roles: [] };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new ConsoleInputError(`${a} needs a value`);
      return v;
    };
    if (a === '--json') args.json = true;
    else if (a === '--as') args.as = value();
    else if (a === '--roles')
      args.roles = value()
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
    else if (a === '--guild') args.guildId = value();
    else if (a === '--dm') args.guildId = null;
    else if (a === '--help' || a === '-h') throw new ConsoleInputError(USAGE);
    else if (a.startsWith('--')) throw new ConsoleInputError(`Unknown option ${a}\n${USAGE}`);
    else rest.push(a);
  }
  if (!/^(admin|member|\d{15,21})$/.test(args.as))
    throw new ConsoleInputError('--as takes admin, member or a user id (15-21 digits)');
  if (args.guildId && !/^\d{15,21}$/.test(args.guildId))
    throw new ConsoleInputError('--guild takes a guild id (15-21 digits)');
  if (rest.length) args.line = rest.join(' ');
  return args;
}

const out = (s: string) => process.stdout.write(`${s}\n`);

function print(replies: ReplyView[], json: boolean, oneShot: boolean): void {
  if (json) {
    out(JSON.stringify(oneShot ? { replies } : { replies }));
    return;
  }
  for (const r of replies) out(renderText(r));
}

/** Runs one line; false when the console could not run it (the bot never saw it). */
async function runLine(
  session: ConsoleSession,
  line: string,
  json: boolean,
  oneShot: boolean,
): Promise<boolean> {
  const { verb, rest } = splitVerb(line);
  try {
    if (verb === 'help') out(USAGE);
    else if (verb === 'press') print(await session.press(rest), json, oneShot);
    else if (verb === 'complete') {
      const choices = await session.complete(rest);
      if (json) out(JSON.stringify({ choices }));
      else
        out(
          choices.length
            ? choices.map((c) => `  ${String(c.value)}  —  ${c.name}`).join('\n')
            : '(no suggestions)',
        );
    } else if (verb === 'run') print(await session.run(rest), json, oneShot);
    return true;
  } catch (err) {
    if (!(err instanceof ConsoleInputError)) throw err;
    if (json) out(JSON.stringify({ error: err.message }));
    else process.stderr.write(`error: ${err.message}\n`);
    return false;
  }
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const e = env();
  // The console runs no jobs: those belong to the bot processes.
  const runtime = await startRuntime(e, { jobs: false });
  const offline = await startOffline(
    runtime.config,
    e,
    { as: args.as, roles: args.roles, guildId: args.guildId },
    runtime,
  );
  let ok = true;
  try {
    if (args.line) {
      ok = await runLine(offline.session, args.line, args.json, true);
    } else {
      offline.discord.onBackgroundCall = (call: CapturedCall) => {
        if (call.kind === 'editReply' || call.kind === 'followUp') {
          const view: ReplyView = {
            kind: call.kind,
            embeds: (call.body?.embeds as ReplyView['embeds']) ?? [],
            components: [],
          };
          if (args.json) out(JSON.stringify({ replies: [view], background: true }));
          else out(`(later) ${renderText(view)}`);
        }
      };
      const rl = createInterface({ input: process.stdin, terminal: process.stdin.isTTY });
      if (process.stdin.isTTY) {
        rl.setPrompt('config-bot> ');
        rl.prompt();
      }
      for await (const line of rl) {
        const { verb } = splitVerb(line);
        if (!line.trim() || line.trim().startsWith('#')) {
          if (process.stdin.isTTY) rl.prompt();
          continue;
        }
        if (verb === 'quit') break;
        ok = (await runLine(offline.session, line, args.json, false)) && ok;
        if (process.stdin.isTTY) rl.prompt();
      }
      rl.close();
    }
  } finally {
    await offline.close();
    await runtime.stop();
  }
  return ok ? 0 : 2;
}

runScript(main);
