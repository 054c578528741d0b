/**
 * A bot process of the Discord REST faults (scripts/chaos/discord-rest.ts): the bot's runtime as
 * `npm start` runs it (database, sync, kill alerts, change requests shown in the approval
 * channel) behind a real discord.js Client whose REST goes to the loopback Discord named by
 * `api`. Interactions arrive as raw payloads on stdin, one JSON line each, and enter through the
 * client's gateway packet handler (the offline harness's way); each line is answered on stdout
 * once the bot has handled it.
 *
 * stdin:  {"id":1,"op":"dispatch","payload":{...}} · {"id":2,"op":"kill","flag":"x","why":"..."} · {"op":"stop"}
 * stdout: {"ready":true} · {"id":1,"ok":true} · {"id":2,"ok":false,"error":"..."}
 */
import { createInterface } from 'node:readline';
import type { APIInteraction } from 'discord.js';
import { parseEnv } from '../../src/app/env.js';
import { startRuntime } from '../../src/app/runtime.js';
import { createCommandContext, discordSettings } from '../../src/discord/context.js';
import { loadCommands } from '../../src/discord/loader.js';
import { restNotifier } from '../../src/discord/notifier.js';
import { OfflineDiscord } from '../../src/offline/harness.js';
import type { Notifier } from '../../src/jobs/notifier.js';

export interface BotArgs {
  uri: string;
  dbName: string;
  dataDir: string;
  /** The loopback Discord's REST base (…/api). */
  api: string;
  /** discord.js's REST timeout: a held request is given up after it, then retried. */
  timeoutMs: number;
  guildId: string;
  applicationId: string;
  alertChannelId: string;
  approvalChannelId: string;
}

type Command =
  | { id: number; op: 'dispatch'; payload: APIInteraction }
  | { id: number; op: 'kill'; flag: string; why: string }
  | { id?: number; op: 'stop' };

const args = JSON.parse(process.argv[2] ?? '{}') as BotArgs;
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

const e = parseEnv({
  MONGODB_URI: args.uri,
  MONGODB_DB_NAME: args.dbName,
  DATA_DIR: args.dataDir,
  DISCORD_API_URL: args.api,
  DISCORD_GUILD_ID: args.guildId,
  DISCORD_CLIENT_ID: args.applicationId,
  ALERT_CHANNEL_ID: args.alertChannelId,
  APPROVAL_CHANNEL_ID: args.approvalChannelId,
  // The faults measure Discord's side: the per-user limits would refuse a fast workload.
  WRITE_RATE_LIMIT_PER_MIN: '10000',
  WRITE_ATTEMPTS_PER_MIN: '10000',
  CONFIG_POLL_INTERVAL_MS: '100',
  LOG_LEVEL: 'warn',
});

// The client comes after the runtime (its handler needs the runtime), the notifier before it:
// it reaches the client's REST when it posts, as the bot's does (src/index.ts).
const started: { discord?: OfflineDiscord } = {};
const rest = () => {
  if (!started.discord) throw new Error('the Discord client is not started yet');
  return restNotifier(started.discord.client.rest);
};
const notifier: Notifier = {
  post: (...a) => rest().post(...a),
  send: (...a) => rest().send(...a),
  edit: (...a) => rest().edit(...a),
};
const runtime = await startRuntime(e, { jobs: true, notifier, report: 'bot' });
const ctx = createCommandContext(runtime.config, discordSettings(e), runtime, runtime.flags);
const bot = new OfflineDiscord(await loadCommands(), ctx, args.applicationId, {
  api: { url: args.api, timeoutMs: args.timeoutMs },
});
started.discord = bot;

async function handle(cmd: Command): Promise<void> {
  if (cmd.op === 'dispatch') await bot.dispatch(cmd.payload);
  else if (cmd.op === 'kill') await runtime.flags.kill(cmd.flag, cmd.why);
}

out({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line) as Command;
  if (cmd.op === 'stop') break;
  // Commands run concurrently, as interactions do: each is answered when done.
  void handle(cmd).then(
    () => out({ id: cmd.id, ok: true }),
    (err: unknown) => out({ id: cmd.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
}
ctx.confirmations.clear();
await bot.destroy();
await runtime.stop();
process.exit(0);
