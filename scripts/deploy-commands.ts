/**
 * Registers the slash commands with Discord: to DISCORD_GUILD_ID (instant) by default, or
 * globally with --global (can take up to an hour to appear). --dry-run prints the JSON it would
 * send and needs neither a token nor the network.
 *
 *   npm run deploy-commands -- [--global] [--dry-run]
 */
import { REST, Routes, type RESTPutAPIApplicationCommandsResult } from 'discord.js';
import { applicationIdFromToken } from '../src/discord/context.js';
import { loadCommands } from '../src/discord/loader.js';
import { env } from '../src/env.js';
import { runScript } from './lib/run.js';

async function main(): Promise<number> {
  const flags = new Set(process.argv.slice(2));
  const unknown = [...flags].filter((f) => !['--global', '--dry-run'].includes(f));
  if (unknown.length) {
    process.stderr.write(
      `Unknown option ${unknown.join(', ')}\nusage: npm run deploy-commands -- [--global] [--dry-run]\n`,
    );
    return 2;
  }
  const body = [...(await loadCommands()).values()].map((c) => c.data.toJSON());
  if (flags.has('--dry-run')) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  const e = env();
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
  const global = flags.has('--global');
  if (!global && !e.DISCORD_GUILD_ID) {
    process.stderr.write('DISCORD_GUILD_ID is not set: give the server to register in, or use --global.\n');
    return 1;
  }
  const rest = new REST().setToken(e.DISCORD_TOKEN);
  const route = global
    ? Routes.applicationCommands(clientId)
    : Routes.applicationGuildCommands(clientId, e.DISCORD_GUILD_ID ?? '');
  const result = (await rest.put(route, { body })) as RESTPutAPIApplicationCommandsResult;
  const where = global ? 'globally' : `in guild ${e.DISCORD_GUILD_ID}`;
  process.stdout.write(
    `Registered ${result.length} command(s) ${where}: ${result.map((c) => `/${c.name}`).join(', ')}\n`,
  );
  for (const c of body) {
    const subs = (c.options ?? []).map((o) => o.name);
    process.stdout.write(`  /${c.name}${subs.length ? ` (${subs.join(', ')})` : ''}\n`);
  }
  return 0;
}

runScript(main);
