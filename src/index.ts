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
import { restNotifier } from './discord/notifier.js';
import { DEFAULT_API, describeDiscordFailure } from './discord/rest-errors.js';
import { StartupError } from './base/errors.js';
import { errorDetail, logger } from './base/logger.js';
import { startRuntime } from './app/runtime.js';

const NO_TOKEN = `DISCORD_TOKEN is not set, so the bot cannot log in to Discord.
  1. Create an application at https://discord.com/developers/applications, add a Bot, and copy its token.
  2. Put DISCORD_TOKEN=... and DISCORD_GUILD_ID=<your server id> in .env (see .env.example).
  3. npm run deploy-commands, then npm start.
To try every command without Discord: npm run console`;

runEntryPoint(
  async (e) => {
    if (!e.DISCORD_TOKEN) {
      process.stderr.write(`${NO_TOKEN}\n`);
      return 1;
    }
    const settings = discordSettings(e);
    if (settings.allowedGuildIds.length === 0) {
      logger.warn('Neither DISCORD_GUILD_ID nor ALLOWED_GUILD_IDS is set: every server will be refused.');
    }
    const commands = await loadCommands();
    const api = e.DISCORD_API_URL ?? DEFAULT_API;
    // Slash commands arrive without any privileged intent; Guilds keeps guild and channel caches.
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api } });
    const runtime = await startRuntime(e, { jobs: true, notifier: restNotifier(client.rest), report: 'bot' });
    if (e.HTTP_PORT) {
      const http = await startApi(runtime, e, e.HTTP_PORT);
      atExit(() => http.close());
    }
    const ctx = createCommandContext(runtime.config, settings, runtime, runtime.flags);
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
