/**
 * The bot: connects to the database (or starts the embedded one), loads the configuration,
 * logs in to Discord and answers /config. Stops cleanly on SIGINT/SIGTERM.
 */
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { createCommandContext, discordSettings } from './discord/context.js';
import { createInteractionHandler } from './discord/dispatcher.js';
import { loadCommands } from './discord/loader.js';
import { restNotifier } from './discord/notifier.js';
import { env, EnvError } from './env.js';
import { errorDetail, logger } from './logger.js';
import { startRuntime } from './runtime.js';

const NO_TOKEN = `DISCORD_TOKEN is not set, so the bot cannot log in to Discord.
  1. Create an application at https://discord.com/developers/applications, add a Bot, and copy its token.
  2. Put DISCORD_TOKEN=... and DISCORD_GUILD_ID=<your server id> in .env (see .env.example).
  3. npm run deploy-commands, then npm start.
To try every command without Discord: npm run console`;

async function main(): Promise<void> {
  const e = env();
  if (!e.DISCORD_TOKEN) {
    logger.error(NO_TOKEN);
    process.exit(1);
  }
  const settings = discordSettings(e);
  if (settings.allowedGuildIds.length === 0) {
    logger.warn('Neither DISCORD_GUILD_ID nor ALLOWED_GUILD_IDS is set: every server will be refused.');
  }
  const commands = await loadCommands();
  // Slash commands arrive without any privileged intent; Guilds keeps guild and channel caches.
  const client = new Client({ intents: [GatewayIntentBits.Guilds] });
  const runtime = await startRuntime(e, { jobs: true, notifier: restNotifier(client.rest) });
  const ctx = createCommandContext(runtime.config, settings, runtime);
  const handle = createInteractionHandler(commands, ctx);
  client.on(Events.InteractionCreate, (interaction) => void handle(interaction));
  client.once(Events.ClientReady, (c) =>
    logger.info(
      `Logged in as ${c.user.tag} (instance ${runtime.instanceId}); serving ${[...commands.keys()].map((n) => `/${n}`).join(', ')}`,
    ),
  );
  client.on(Events.Error, (err) => logger.error('Discord client error', errorDetail(err)));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received: shutting down`);
    try {
      ctx.confirmations.clear();
      await client.destroy();
      await runtime.stop();
    } catch (err) {
      logger.error('Error during shutdown', errorDetail(err));
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  await client.login(e.DISCORD_TOKEN);
}

main().catch((err: unknown) => {
  if (err instanceof EnvError) logger.error(err.message);
  else logger.error('Start-up failed', errorDetail(err));
  process.exit(1);
});
