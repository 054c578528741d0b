/**
 * The bot processes of the Discord REST faults (discord-rest-bot.ts), driven over stdin/stdout:
 * each is a real process started through the suite's process control (lib/procs.ts), so the
 * runner ends it on any way out; `stop()` ends it cleanly first.
 */
import { createInterface } from 'node:readline';
import type { APIInteraction } from 'discord.js';
import { spawnTs, type Proc } from './lib/procs.js';
import type { BotArgs } from './discord-rest-bot.js';

interface Answer {
  id?: number;
  ok?: boolean;
  error?: string;
  ready?: boolean;
}

/** One bot process: sends it interactions and commands, each answered once handled. */
export class BotProcess {
  readonly proc: Proc;
  private next = 1;
  private readonly waiting = new Map<number, (a: Answer) => void>();
  private readonly ready: Promise<void>;

  constructor(
    readonly name: string,
    args: BotArgs,
  ) {
    this.proc = spawnTs(`bot ${name}`, 'scripts/chaos/discord-rest-bot.ts', [JSON.stringify(args)], {});
    let markReady: () => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      void this.proc.exited.then(({ code, signal }) => {
        const error = `bot ${name} exited (${signal ?? code}): ${this.proc.output().slice(-2000)}`;
        reject(new Error(error));
        for (const done of this.waiting.values()) done({ ok: false, error });
        this.waiting.clear();
      });
    });
    // Rejected only when the process ends before serving: started() tells that to the caller.
    this.ready.catch(() => undefined);
    const stdout = this.proc.child.stdout;
    if (stdout)
      createInterface({ input: stdout }).on('line', (line) => {
        const a = parse(line);
        if (a?.ready) markReady();
        else if (a?.id !== undefined) this.waiting.get(a.id)?.(a);
      });
  }

  /** Resolves once the process is serving, or rejects with why it is not. */
  started(): Promise<void> {
    return this.ready;
  }

  dispatch(payload: APIInteraction): Promise<Answer> {
    return this.call({ op: 'dispatch', payload });
  }

  kill(flag: string, why: string): Promise<Answer> {
    return this.call({ op: 'kill', flag, why });
  }

  /** Asks the process to stop cleanly, then ends its group (SIGTERM, SIGKILL) if it has not. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.proc.running()) {
      this.proc.child.stdin?.end(`${JSON.stringify({ op: 'stop' })}\n`);
      await Promise.race([this.proc.exited, new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    await this.proc.stop(1000);
  }

  /** Sends a command; answered `ok: false` if the process exits or has not answered within `timeoutMs`. */
  private call(cmd: object, timeoutMs = 30_000): Promise<Answer> {
    if (!this.proc.running()) return Promise.resolve({ ok: false, error: `bot ${this.name} has exited` });
    const id = this.next++;
    return new Promise<Answer>((resolve) => {
      const timer = setTimeout(
        () =>
          this.waiting.get(id)?.({
            ok: false,
            error: `bot ${this.name} did not answer within ${timeoutMs} ms`,
          }),
        timeoutMs,
      );
      this.waiting.set(id, (a) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(a);
      });
      this.proc.child.stdin?.write(`${JSON.stringify({ id, ...cmd })}\n`);
    });
  }
}

function parse(line: string): Answer | undefined {
  try {
    return JSON.parse(line) as Answer;
  } catch {
    // A stray line on stdout (none expected): not an answer.
    return undefined;
  }
}
