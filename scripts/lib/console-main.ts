/**
 * The offline console once its arguments are read (scripts/console.ts): the runtime, the offline
 * Discord harness and the bot's handlers, one command or lines until quit or end of input.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import type { ConfigService } from '../../src/config/service.js';
import { parseCommandLine, splitVerb } from '../../src/offline/command-line.js';
import {
  ConsoleInputError,
  finalViews,
  renderText,
  type ConsoleSession,
  type ReplyView,
} from '../../src/offline/console-session.js';
import type { CapturedCall, Violation } from '../../src/offline/rest.js';
import type { OfflineDiscord } from '../../src/offline/harness.js';
import { startOffline } from '../../src/offline/offline.js';
import type { Env } from '../../src/app/env.js';
import { errorDetail, logger } from '../../src/base/logger.js';
import { panelLogins, panelUrl } from '../../src/app/panel.js';
import { startRuntime } from '../../src/app/runtime.js';
import { exchange, jsonFiles, savedLine, saveFiles, type Exchange, type Output } from './console-exchange.js';
import { USAGE, type ConsoleArgs } from './console-args.js';
import { quietOnClosedPipes } from './pipes.js';
import { SavedFiles } from './saved-files.js';

/** Said instead of buttons nobody can press once a one-shot run has exited. */
const NOT_CONFIRMED =
  'Nothing was changed: this needs confirmation. Add --yes to confirm it, or run `npm run console` and type the command, then `press Confirm`.';
const DEAD_BUTTONS =
  '(Buttons work in interactive mode: run `npm run console`, type the command, then `press LABEL`.)';

/** Lines of interactive history kept across sessions, in DATA_DIR. */
const HISTORY_SIZE = 500;

/** Stops reading lines once nobody reads the output (`| head -1`); set by the interactive loop. */
let stopReading: () => void = () => undefined;
const pipes = quietOnClosedPipes(() => stopReading());
const out = (s: string) => {
  if (!pipes.stdoutClosed()) process.stdout.write(`${s}\n`);
};

/** Prints an exchange as text; false when a file it carried could not be saved. */
function printText(x: Exchange, show: (r: ReplyView) => ReplyView = (r) => r): boolean {
  for (const r of x.replies) out(renderText(show(r)));
  for (const f of x.files) out(savedLine(f));
  for (const line of x.unsaved) process.stderr.write(`error: ${line}\n`);
  return !x.unsaved.length;
}

/** Requests the bot made that Discord would have refused: a bug in the bot, worth saying loudly. */
function newViolations(discord: OfflineDiscord, from: number): Violation[] {
  const found = discord.violations.slice(from);
  for (const v of found)
    process.stderr.write(
      `warning: Discord would refuse ${v.method} ${v.path} (${v.code} ${v.message})${v.problems.map((p) => `\n  ${p}`).join('')}\n`,
    );
  return found;
}

/** Runs one line and prints what the bot answered; false when the console could not run it. */
async function runLine(session: ConsoleSession, line: string, o: Output): Promise<boolean> {
  const { verb, rest } = splitVerb(line);
  const from = session.discord.violations.length;
  try {
    if (verb === 'help') out(USAGE);
    else if (verb === 'complete') {
      const choices = await session.complete(rest);
      if (o.json) out(JSON.stringify({ choices }));
      else
        out(
          choices.length
            ? renderText({ kind: 'autocomplete', embeds: [], components: [], choices })
            : '(no suggestions)',
        );
    } else {
      const x = await exchange(session, o, () =>
        verb === 'press' ? session.press(rest) : verb === 'submit' ? session.submit(rest) : session.run(rest),
      );
      const violations = newViolations(session.discord, from);
      if (!o.json) return printText(x);
      out(
        JSON.stringify({ replies: x.replies, ...jsonFiles(x), ...(violations.length ? { violations } : {}) }),
      );
      return !x.unsaved.length;
    }
    return true;
  } catch (err) {
    return refused(err, o.json);
  }
}

/**
 * A command given on the command line. Buttons cannot be pressed once the process has exited:
 * a rollback, a reset or a /flag off in production is confirmed with --yes, or the reply says
 * that nothing was changed.
 */
async function runOnce(
  session: ConsoleSession,
  args: ConsoleArgs & { line: string },
  o: Output,
): Promise<boolean> {
  if (splitVerb(args.line).verb !== 'run') return runLine(session, args.line, o);
  const from = session.discord.violations.length;
  try {
    const first = await exchange(session, o, () => session.run(args.line));
    const asks = session.awaitsConfirmation();
    const none: Exchange = { replies: [], files: [], unsaved: [] };
    const confirmed = asks && args.yes ? await exchange(session, o, () => session.press('Confirm')) : none;
    const violations = newViolations(session.discord, from);
    const both = {
      files: [...first.files, ...confirmed.files],
      unsaved: [...first.unsaved, ...confirmed.unsaved],
    };
    if (o.json) {
      const confirmation = asks ? (args.yes ? 'confirmed (--yes)' : 'not confirmed; add --yes') : undefined;
      out(
        JSON.stringify({
          replies: [...first.replies, ...confirmed.replies],
          ...jsonFiles(both),
          ...(confirmation ? { confirmation } : {}),
          ...(violations.length ? { violations } : {}),
        }),
      );
      return !both.unsaved.length;
    }
    // Confirm and Cancel cannot be pressed once this process has exited: say what happened instead.
    let ok = printText(first, (r) => (asks ? { ...r, components: [] } : r));
    if (asks && !args.yes) out(NOT_CONFIRMED);
    else if (asks) out('(--yes: pressed Confirm)');
    else if (session.current()?.components?.length) out(DEAD_BUTTONS);
    ok = printText(confirmed) && ok;
    return ok;
  } catch (err) {
    return refused(err, o.json);
  }
}

function refused(err: unknown, json: boolean): false {
  if (!(err instanceof ConsoleInputError)) throw err;
  if (json) out(JSON.stringify({ error: err.message }));
  else process.stderr.write(`error: ${err.message}\n`);
  return false;
}

/** Interactive history in a file of DATA_DIR, oldest line first; never fails the console. */
class HistoryFile {
  private warned = false;

  constructor(
    readonly file: string,
    private readonly keep: (line: string) => boolean,
  ) {}

  /** Newest first, as readline wants it. */
  load(): string[] {
    try {
      const lines = readFileSync(this.file, 'utf8').split('\n').filter(Boolean);
      return lines.slice(-HISTORY_SIZE).reverse();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.warn(err);
      return [];
    }
  }

  save(newestFirst: string[]): void {
    const lines = newestFirst.filter(this.keep).slice(0, HISTORY_SIZE).reverse();
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      // What admins type may name servers and values: readable by its owner only.
      writeFileSync(this.file, lines.length ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
    } catch (err) {
      this.warn(err);
    }
  }

  private warn(err: unknown): void {
    if (this.warned) return;
    this.warned = true;
    logger.warn(`Console history not kept in ${this.file}`, errorDetail(err));
  }
}

/** A line that sets a sensitive key: its value must not be written to the history file. */
function revealsSecret(line: string, config: ConfigService): boolean {
  const { verb, rest } = splitVerb(line);
  // What a form is filled with may be a secret: the line does not say which key it is for.
  if (verb === 'submit') return true;
  if (verb !== 'run' && verb !== 'complete') return false;
  try {
    const { options } = parseCommandLine(rest);
    return (
      options.setting !== undefined &&
      options.value !== undefined &&
      config.definition(options.setting).sensitive
    );
  } catch (err) {
    // Not a command, or an unknown key: nothing secret can be in it.
    logger.debug('History line not parsed', errorDetail(err));
    return false;
  }
}

/** Reads lines from a terminal (prompt, line editing, history) or a pipe (no prompt), until quit or end of input. */
async function interactive(
  offline: Awaited<ReturnType<typeof startOffline>>,
  o: Output,
  e: Env,
  config: ConfigService,
): Promise<boolean> {
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const history = new HistoryFile(
    path.resolve(e.DATA_DIR, 'console_history'),
    (l) => !revealsSecret(l, config),
  );
  const rl: Interface = tty
    ? createInterface({
        input: process.stdin,
        output: process.stdout,
        terminal: true,
        prompt: 'config-bot> ',
        history: history.load(),
        historySize: HISTORY_SIZE,
        removeHistoryDuplicates: true,
      })
    : createInterface({ input: process.stdin, terminal: false });
  if (tty) {
    rl.on('history', (lines) => history.save(lines));
    // Ctrl+C clears what is typed, or leaves when there is nothing.
    rl.on('SIGINT', () => (rl.line ? rl.write(null, { ctrl: true, name: 'u' }) : rl.close()));
  }
  // Printed while the prompt waits (a confirmation expiring): above the prompt, which is redrawn.
  const later = (s: string) => {
    if (!tty) return out(s);
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    out(s);
    rl.prompt(true);
  };
  // A reply changed after its command was answered (a confirmation expiring): said as a change of
  // the reply shown above, not as a new one.
  offline.discord.onBackgroundCall = (call: CapturedCall) => {
    if (call.kind !== 'editReply' && call.kind !== 'followUp') return;
    const [shown] = finalViews([call]);
    if (!shown) return;
    const view: ReplyView = { ...shown, components: [] };
    const files = saveFiles([call], o.files);
    for (const line of files.unsaved) process.stderr.write(`error: ${line}\n`);
    if (o.json) return later(JSON.stringify({ replies: [view], ...jsonFiles(files), background: true }));
    const label = call.kind === 'editReply' ? '(edited later)' : '(later)';
    later([`${label} ${renderText(view)}`, ...files.files.map(savedLine)].join('\n'));
  };
  stopReading = () => rl.close();
  let ok = true;
  if (tty) rl.prompt();
  for await (const line of rl) {
    const trimmed = line.trim();
    if (splitVerb(trimmed).verb === 'quit') break;
    if (trimmed && !trimmed.startsWith('#')) ok = (await runLine(offline.session, trimmed, o)) && ok;
    // Nobody reads the answers any more (`| head -1`): run no further command. A failed write is
    // reported on a later tick, hence the wait.
    await new Promise((resolve) => setImmediate(resolve));
    if (pipes.stdoutClosed()) break;
    if (tty) rl.prompt();
  }
  rl.close();
  if (tty) out('');
  return ok;
}

/** Runs the console with its arguments read: one command, or lines until quit or end of input. */
export async function runConsole(e: Env, args: ConsoleArgs): Promise<number> {
  // The console runs no jobs: those belong to the bot processes.
  const runtime = await startRuntime(e, { jobs: false });
  const offline = await startOffline(
    runtime.config,
    e,
    { as: args.as, roles: args.roles, guildId: args.guildId },
    runtime,
    { logins: panelLogins(runtime, e), url: panelUrl(e, e.HTTP_PORT ?? 8080) },
  );
  const o: Output = {
    json: args.json,
    files: new SavedFiles(args.out ?? path.join(e.DATA_DIR, 'console-files')),
  };
  try {
    for (const file of args.attach) await offline.session.attach(file);
    const ok = args.line
      ? await runOnce(offline.session, { ...args, line: args.line }, o)
      : await interactive(offline, o, e, runtime.config);
    return ok ? 0 : 2;
  } catch (err) {
    // A file given with --attach that cannot be read: said in one line, nothing run.
    refused(err, args.json);
    return 2;
  } finally {
    // Also drops a confirmation still waiting, and its timer, so nothing keeps the process alive.
    await offline.close();
    await runtime.stop();
  }
}
