/**
 * The embedded database (no MONGODB_URI: the process starts FerretDB over DATA_DIR itself), as a
 * user meets its restarts: its server killed under a running bot (the bot starts it again), the
 * bot killed as an OOM kill would (SIGKILL to the node process alone) and started again over the
 * same DATA_DIR, and the bot stopped and started again.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { ChaosContext, Scenario } from './types.js';
import { findFerretdb } from '../../src/storage/embedded.js';
import { clusterEnv, createToken, startServer, tokenAccepted, type Server } from './lib/cluster.js';
import { underLoad, type LoadTarget } from './lib/phases.js';
import { alive, childPids, stackLines, type Proc } from './lib/procs.js';
import { pick, runSteps } from './lib/row.js';

const STARTED = /Embedded database started: ferretdb, data in \S+, at (mongodb:\/\/[\d.:]+\/)/;
const DB_NAME = 'config_bot';

/** The embedded FerretDB a process started (its child whose command is ferretdb). */
async function ferretOf(pid: number): Promise<number | undefined> {
  for (const child of await childPids(pid)) {
    const cmd = await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('ferretdb')) return child;
  }
  return undefined;
}

/** A bot on the embedded database, which the faults restart; its database's URI moves with it. */
class EmbeddedBot implements LoadTarget {
  readonly dbName = DB_NAME;
  token = '';
  uri = '';
  private earlier = '';
  /** Processes started before (kept until the end: an orphan they left is in their group). */
  readonly past: Proc[] = [];
  private constructor(
    readonly server: Server,
    private readonly env: Record<string, string>,
  ) {}

  static async start(dir: string, env: Record<string, string>): Promise<EmbeddedBot> {
    const s = { name: 'bot-embedded', entry: 'bot' as const, dataDir: path.join(dir, 'data') };
    const r = await startServer(s, env);
    const bot = new EmbeddedBot({ ...s, url: r.url, proc: r.proc, earlier: '' }, env);
    bot.uri = `${(await r.proc.waitFor(STARTED, 5000, 'where its database is'))[1] ?? ''}${DB_NAME}`;
    bot.token = await createToken(bot.uri, DB_NAME);
    await tokenAccepted(bot.urls(), bot.token);
    return bot;
  }

  urls = () => (this.server.proc.running() ? [this.server.url] : []);
  logStacks = () => stackLines(this.earlier + this.server.proc.output());

  /** Starts the bot again over the same DATA_DIR; returns how long it took to listen. */
  async startAgain(): Promise<number> {
    this.earlier += this.server.proc.output();
    this.past.push(this.server.proc);
    const r = await startServer(this.server, this.env);
    this.server.proc = r.proc;
    this.server.url = r.url;
    this.uri = `${(await r.proc.waitFor(STARTED, 5000, 'where its database is'))[1] ?? ''}${DB_NAME}`;
    await tokenAccepted(this.urls(), this.token);
    return r.ms;
  }

  async stop(): Promise<void> {
    await Promise.all([this.server.proc, ...this.past].map((p) => p.stop()));
  }
}

function faults(ctx: ChaosContext, bot: EmbeddedBot) {
  const base = {
    ops: pick(ctx.quick, 30, 250),
    clients: pick(ctx.quick, 3, 4),
    recoverWithinMs: 40_000,
    settleMs: pick(ctx.quick, 8000, 20_000),
  };
  const notes: string[] = [];
  let orphans = 0;
  return [
    {
      ...base,
      fault: 'embedded FerretDB SIGKILLed under the bot',
      plannedMs: pick(ctx.quick, 4000, 8000),
      async inject() {
        const pid = await ferretOf(bot.server.proc.pid);
        if (!pid) throw new Error('the bot runs no embedded FerretDB');
        process.kill(pid, 'SIGKILL');
        return Date.now();
      },
    },
    {
      ...base,
      fault: 'bot SIGKILLed (as an OOM kill), started again over its DATA_DIR',
      plannedMs: pick(ctx.quick, 8000, 12_000),
      notes: () => notes,
      leftBroken: () => orphans,
      async inject() {
        const old = bot.server.proc;
        const ferret = await ferretOf(old.pid);
        old.signal('SIGKILL');
        await old.exited;
        const ms = await bot.startAgain();
        notes.push(`the bot listened again ${ms} ms after it was started over the same DATA_DIR`);
        if (ferret && (await alive(ferret)) && ++orphans)
          notes.push(
            `the killed bot's FerretDB (pid ${ferret}) outlived it and still serves the same files next to the new one`,
          );
        return Date.now();
      },
    },
    {
      ...base,
      fault: 'bot stopped (SIGTERM) and started again over its DATA_DIR',
      plannedMs: pick(ctx.quick, 8000, 12_000),
      notes: () => [],
      async inject() {
        const old = bot.server.proc;
        const ferret = await ferretOf(old.pid);
        old.signal('SIGTERM');
        await old.exited;
        if (ferret && (await alive(ferret)))
          throw new Error(`a bot stopped with SIGTERM left its FerretDB (pid ${ferret}) running`);
        await bot.startAgain();
        return Date.now();
      },
    },
  ];
}

export const embeddedScenario: Scenario = {
  id: 'embedded',
  title: 'the embedded database (no MONGODB_URI) restarted under a bot process',
  async run(ctx) {
    const bin = findFerretdb(process.env.FERRETDB_PATH, process.env.PATH) ?? '';
    const env = clusterEnv('', {
      EMBEDDED_DB: 'ferretdb',
      FERRETDB_PATH: bin,
      DB_TIMEOUT_MS: pick(ctx.quick, '1000', '3000'),
    });
    ctx.log('embedded: starting a bot process on its embedded FerretDB');
    const bot = await EmbeddedBot.start(path.join(ctx.workDir, 'embedded'), env);
    try {
      return await runSteps(
        ctx,
        faults(ctx, bot)
          .slice(0, pick(ctx.quick, 2, 3))
          .map((f) => [f.fault, () => underLoad(ctx, bot, f)] as const),
        {
          // A fault that failed may have left the bot down: the next one needs it.
          after: async () => {
            if (!bot.server.proc.running()) await bot.startAgain();
          },
          chainUri: () => bot.uri,
        },
      );
    } finally {
      await bot.stop();
    }
  },
};
