import type { ConfigService } from '../config/service.js';
import type { FlagStore } from '../flags/flags.js';
import { ConsoleSession } from './console-session.js';
import { createCommandContext, discordSettings, type DiscordEnv } from '../discord/context.js';
import { OfflineDiscord } from './harness.js';
import { loadCommands } from '../discord/loader.js';
import type { CommandContext, ProcessInfo } from '../discord/types.js';
import { ADMIN_PERMISSIONS, MEMBER_PERMISSIONS, type Simulated } from './simulated.js';

/** Ids the offline console uses when the environment names none. */
export const OFFLINE_IDS = {
  guild: '100000000000000000',
  channel: '100000000000000010',
  application: '100000000000000020',
  admin: '100000000000000001',
  member: '100000000000000002',
} as const;

export interface OfflineOptions {
  /** admin, member, or a user id (a member without Administrator unless given admin roles). */
  as: string;
  roles: string[];
  /** The guild to act in; null for a direct message. Default: the home guild. */
  guildId?: string | null;
}

/** The whole bot behind an offline Discord: what `npm run console` runs. */
export async function startOffline(
  config: ConfigService,
  env: DiscordEnv,
  opts: OfflineOptions,
  /** The process's runtime; its loaded `flags` serve /flag. */
  runtime?: ProcessInfo & { flags?: FlagStore },
  /** Where /config panel makes its login links (the panel itself is served by `npm run api` or `npm start`). */
  panel?: CommandContext['panel'],
) {
  const settings = discordSettings(env, OFFLINE_IDS.guild);
  const ctx = createCommandContext(config, settings, runtime, runtime?.flags, panel);
  const applicationId = env.DISCORD_CLIENT_ID ?? OFFLINE_IDS.application;
  const discord = new OfflineDiscord(await loadCommands(), ctx, applicationId);
  const home = env.DISCORD_GUILD_ID ?? OFFLINE_IDS.guild;
  const session = new ConsoleSession(discord, simulatedUser(opts, home, applicationId));
  return {
    discord,
    session,
    async close() {
      ctx.confirmations.clear();
      await discord.destroy();
    },
  };
}

export function simulatedUser(opts: OfflineOptions, home: string, applicationId: string): Simulated {
  const guildId = opts.guildId === undefined ? home : opts.guildId;
  const base = { applicationId, guildId, channelId: OFFLINE_IDS.channel, roles: opts.roles };
  if (opts.as === 'admin')
    return {
      ...base,
      user: { id: OFFLINE_IDS.admin, username: 'console-admin' },
      permissions: ADMIN_PERMISSIONS,
    };
  if (opts.as === 'member')
    return {
      ...base,
      user: { id: OFFLINE_IDS.member, username: 'console-member' },
      permissions: MEMBER_PERMISSIONS,
    };
  return { ...base, user: { id: opts.as, username: `user-${opts.as}` }, permissions: MEMBER_PERMISSIONS };
}
