/**
 * Registers the slash commands with Discord: to DISCORD_GUILD_ID (instant) by default, or
 * globally with --global (can take up to an hour to appear). --dry-run prints the JSON it would
 * send and needs neither a token nor the network.
 *
 *   npm run deploy-commands -- [--global] [--dry-run]
 *   npm run -s deploy-commands -- --dry-run > commands.json   (-s keeps npm's banner off stdout)
 */
import type { RESTPutAPIApplicationCommandsResult } from 'discord.js';
import { runEntryPoint } from '../src/app/cli.js';
import { ArgsError, readArgs } from './lib/args.js';

const USAGE = 'usage: npm run deploy-commands -- [--global] [--dry-run]';

runEntryPoint(async (e) => {
  let flags: { global: boolean; 'dry-run': boolean; help: boolean };
  try {
    flags = readArgs({
      args: process.argv.slice(2),
      options: {
        global: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // Loaded once the arguments hold: a mistyped option is answered at once.
  const [
    { REST, Routes },
    { applicationIdFromToken },
    { loadCommands },
    { DEFAULT_API, describeDiscordFailure },
  ] = await Promise.all([
    import('discord.js'),
    import('../src/discord/context.js'),
    import('../src/discord/loader.js'),
    import('../src/discord/rest-errors.js'),
  ]);
  const body = [...(await loadCommands()).values()].map((c) => c.data.toJSON());
  if (flags['dry-run']) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  if (!e.DISCORD_TOKEN) {
    process.stderr.write(
      'DISCORD_TOKEN is not set (Discord developer portal > your application > Bot > Reset Token).\n',
    );
    return 1;
  }
  const clientId = e.DISCORD_CLIENT_ID ?? applicationIdFromToken(e.DISCORD_TOKEN);
  if (!clientId) {
    process.stderr.write('DISCORD_CLIENT_ID is not set and could not be read from the token.\n');
    return 1;
  }
  const { global } = flags;
  if (!global && !e.DISCORD_GUILD_ID) {
    process.stderr.write('DISCORD_GUILD_ID is not set: give the server to register in, or use --global.\n');
    return 1;
  }
  const api = e.DISCORD_API_URL ?? DEFAULT_API;
  const rest = new REST({ api, retries: 1, timeout: 15_000 }).setToken(e.DISCORD_TOKEN);
  const route = global
    ? Routes.applicationCommands(clientId)
    : Routes.applicationGuildCommands(clientId, e.DISCORD_GUILD_ID ?? '');
  let result: RESTPutAPIApplicationCommandsResult;
  try {
    result = (await rest.put(route, { body })) as RESTPutAPIApplicationCommandsResult;
  } catch (err) {
    process.stderr.write(
      `${describeDiscordFailure(err, 'register the commands', api)} Nothing was registered.\n`,
    );
    return 1;
  }
  const where = global ? 'globally' : `in guild ${e.DISCORD_GUILD_ID}`;
  process.stdout.write(
    `Registered ${result.length} command(s) ${where}: ${result.map((c) => `/${c.name}`).join(', ')}\n`,
  );
  for (const c of body) {
    const subs = (c.options ?? []).map((o) => o.name);
    process.stdout.write(`  /${c.name}${subs.length ? ` (${subs.join(', ')})` : ''}\n`);
  }
  return 0;
});
