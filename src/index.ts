/**
 * The bot: connects to the database (or starts the embedded one, or starts from the last-known-good
 * copy when the database cannot be reached), loads the configuration, serves the HTTP API when
 * HTTP_PORT is set, logs in to Discord and answers /config. Stops cleanly on SIGINT/SIGTERM/SIGHUP.
 */
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { startApi } from './app/api.js';
import { atExit, runEntryPoint } from './app/cli.js';
import { createCommandContext, discordSettings } from './discord/context.js';
import { createInteractionHandler } from './discord/dispatcher.js';
import { loadCommands } from './discord/loader.js';
import { memberAccess } from './discord/member-access.js';
import { restNotifier } from './discord/notifier.js';
import { DEFAULT_API, describeDiscordFailure } from './discord/rest-errors.js';
import { StartupError } from './base/errors.js';
import { errorDetail, logger } from './base/logger.js';
import { startRuntime } from './app/runtime.js';
import type { Env } from './app/env.js';

const NO_TOKEN = `Discord is not connected (DISCORD_TOKEN is not set): serving the API and the web panel only.
  To connect it: 1. create an application at https://discord.com/developers/applications, add a Bot, copy its token;
  2. put DISCORD_TOKEN=... and DISCORD_GUILD_ID=<your server id> in .env (see .env.example);
  3. npm run deploy-commands, then npm start again.`;

/** Who logs in to the panel while Discord is not connected: one local admin, audited as such. */
const LOCAL_ADMIN = { id: 'local-admin', tag: 'local-admin' };

/**
 * The first run, without Discord: the API and the web panel on the embedded database, and a
 * one-time link that logs the local admin in, so the product can be seen in a browser at once.
 */
async function withoutDiscord(e: Env): Promise<never> {
  const runtime = await startRuntime(e, { jobs: true, report: 'api' });
  const http = await startApi(runtime, e, e.HTTP_PORT ?? 8080, {}, { localAdmin: true });
  atExit(() => http.close());
  const link = await http.logins.createLink(
    { user: LOCAL_ADMIN, guildId: null, access: 'write', ownScope: null, via: 'local' },
    http.panelUrl,
  );
  process.stderr.write(`${NO_TOKEN}\n`);
  process.stdout.write(
    `Open the web panel: ${link.url}\n  (logs in the local admin once, within 5 minutes; for another link: npm run console -- "/config panel")\n`,
  );
  return new Promise<never>(() => undefined);
}

runEntryPoint(
  async (e) => {
    if (!e.DISCORD_TOKEN) return withoutDiscord(e);
    const settings = discordSettings(e);
    if (settings.allowedGuildIds.length === 0) {
      logger.warn('Neither DISCORD_GUILD_ID nor ALLOWED_GUILD_IDS is set: every server will be refused.');
    }
    const commands = await loadCommands();
    const api = e.DISCORD_API_URL ?? DEFAULT_API;
    // Slash commands arrive without any privileged intent; Guilds keeps guild and channel caches.
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api } });
    const runtime = await startRuntime(e, { jobs: true, notifier: restNotifier(client.rest), report: 'bot' });
    const http = e.HTTP_PORT
      ? await startApi(runtime, e, e.HTTP_PORT, {}, { recheck: memberAccess(client, settings) })
      : undefined;
    if (http) atExit(() => http.close());
    const panel = http ? { logins: http.logins, url: http.panelUrl } : undefined;
    const ctx = createCommandContext(runtime.config, settings, runtime, runtime.flags, panel);
    atExit(async () => {
      ctx.confirmations.clear();
      await client.destroy();
    });
    const handle = createInteractionHandler(commands, ctx);
    client.on(Events.InteractionCreate, (interaction) => void handle(interaction));
    client.once(Events.ClientReady, (c) =>
      logger.info(
        `Logged in as ${c.user.tag} (instance ${runtime.instanceId}); serving ${[...commands.keys()].map((n) => `/${n}`).join(', ')}`,
      ),
    );
    client.on(Events.Error, (err) => logger.error('Discord client error', errorDetail(err)));
    try {
      await client.login(e.DISCORD_TOKEN);
    } catch (err) {
      throw new StartupError(describeDiscordFailure(err, 'log in', api));
    }
    // Runs until a signal: the entry point's handler stops the client and the runtime.
    await new Promise<never>(() => undefined);
  },
  { signalExitCode: 0 },
);
