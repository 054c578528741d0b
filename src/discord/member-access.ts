import { PermissionFlagsBits, type Client } from 'discord.js';
import { errorDetail, logger } from '../base/logger.js';
import type { AccessSettings } from './access.js';

/** What a Discord user may do now, by the bot's own rule: `none` when no longer a member of an allowed server. */
export type MemberLevel = 'none' | 'read' | 'write';

/**
 * The bot's access rule for someone who is not in an interaction (a panel session; `selfService`
 * for an Administrator of a server outside the allowlist, confined to its scope): asks Discord
 * for the member as they are now, so a demoted admin or a member who left loses the panel's
 * write access at their next write, not when their session ends. A Discord that does not answer
 * keeps the level the session was given (undefined): the panel must not lock admins out during a
 * Discord outage, and the session's level was checked by this same rule when its link was made.
 */
export function memberAccess(client: Client, settings: AccessSettings) {
  return async (guildId: string, userId: string, selfService = false): Promise<MemberLevel | undefined> => {
    const allowed = settings.allowedGuildIds.includes(guildId);
    // A server outside the allowlist: only its Administrators, and only for its own scope
    // (self-service sessions); a session of a server that left the allowlist ends here.
    if (!allowed && !selfService) return 'none';
    try {
      const guild = await client.guilds.fetch(guildId);
      const member = await guild.members.fetch({ user: userId, force: true });
      if (member.permissions.has(PermissionFlagsBits.Administrator)) return 'write';
      if (!allowed) return 'none';
      return member.roles.cache.some((r) => settings.adminRoleIds.includes(r.id)) ? 'write' : 'read';
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // 10007 Unknown Member, 10004 Unknown Guild: they are no longer there.
      if (code === 10007 || code === 10004) return 'none';
      logger.warn(
        `Could not check ${userId}'s access with Discord; the panel keeps the session's`,
        errorDetail(err),
      );
      return undefined;
    }
  };
}
