import type { BaseInteraction } from 'discord.js';
import { PermissionFlagsBits } from 'discord-api-types/v10';
import { UserError } from '../base/errors.js';
import type { Actor, AuditAction } from '../storage/config-models.js';
import type { RequestContext } from '../config/types.js';

export interface AccessSettings {
  /** Guilds whose members may use the bot at all. */
  allowedGuildIds: readonly string[];
  /** Roles that may change configuration besides Administrators. */
  adminRoleIds: readonly string[];
}

export type AccessLevel = 'read' | 'write';

/** What was attempted, for the audit row of a refusal. */
export interface Attempt {
  key: string;
  action: AuditAction;
}

/**
 * Who may do what. Discord's default member permission (Administrator) can be overridden by a
 * server's admins, so every execution is checked here as well: guild allowlist for everything,
 * Administrator or an admin role for writes.
 */
export class AccessPolicy {
  constructor(private readonly settings: AccessSettings) {}

  /**
   * Throws PERMISSION_DENIED with the reason shown to the user; `attempt` (key and action) is
   * carried in the error so the refusal can be audited.
   */
  check(interaction: BaseInteraction, level: AccessLevel, attempt: Attempt): void {
    try {
      this.enforce(interaction, level, attempt.action);
    } catch (err) {
      if (err instanceof UserError) Object.assign(err.context, attempt);
      throw err;
    }
  }

  /**
   * The scope a request is confined to when it comes from a server outside the allowlist (guild
   * self-service): that server's own; null for the servers of the allowlist.
   */
  ownScope(interaction: BaseInteraction): string | null {
    if (!interaction.inGuild() || this.settings.allowedGuildIds.includes(interaction.guildId)) return null;
    return `guild:${interaction.guildId}`;
  }

  /**
   * Lets an Administrator of a server outside the allowlist act on a self-service key at that
   * server's own scope; throws PERMISSION_DENIED saying what they may do otherwise.
   */
  checkSelfService(
    interaction: BaseInteraction,
    attempt: Attempt & { scope: string | null },
    selfService: boolean,
  ): void {
    const own = this.ownScope(interaction);
    if (!own) throw new Error('checkSelfService is for servers outside the allowlist');
    const refuse = (message: string, detail: string): never => {
      throw new UserError('PERMISSION_DENIED', message, { ...attempt }, detail);
    };
    if (!selfService)
      refuse(
        "This server is not allowed to manage this application's configuration.",
        `guild ${interaction.guildId} not in allowlist`,
      );
    if (!interaction.memberPermissions?.has(PermissionFlagsBits.Administrator))
      refuse(
        `Changing ${attempt.key} for this server needs the Administrator permission of this server.`,
        `self-service by a non-admin of ${interaction.guildId}`,
      );
    if ((attempt.scope ?? own) !== own)
      refuse(
        `From this server you can only manage ${attempt.key} for this server (scope ${own}).`,
        `self-service of ${interaction.guildId} asked for ${attempt.scope ?? 'global'}`,
      );
  }

  /**
   * Whether an Administrator of a server outside the allowlist is asking (guild self-service may
   * let them manage some keys for their own server), without auditing anything (autocomplete).
   */
  selfServiceAdmin(interaction: BaseInteraction): boolean {
    return (
      this.ownScope(interaction) !== null &&
      Boolean(interaction.memberPermissions?.has(PermissionFlagsBits.Administrator))
    );
  }

  /** Whether the interaction passes `level`, without auditing anything (autocomplete). */
  allows(interaction: BaseInteraction, level: AccessLevel): boolean {
    try {
      this.enforce(interaction, level);
      return true;
    } catch {
      return false;
    }
  }

  private enforce(interaction: BaseInteraction, level: AccessLevel, action?: AuditAction): void {
    if (!interaction.inGuild()) {
      throw new UserError(
        'PERMISSION_DENIED',
        'This bot only works inside its server, not in direct messages.',
      );
    }
    if (!this.settings.allowedGuildIds.includes(interaction.guildId)) {
      throw new UserError(
        'PERMISSION_DENIED',
        "This server is not allowed to manage this application's configuration.",
        {},
        `guild ${interaction.guildId} not in allowlist`,
      );
    }
    if (level === 'write' && !this.isAdmin(interaction)) {
      throw new UserError(
        'PERMISSION_DENIED',
        `${activity(action)} needs the Administrator permission or one of the configured admin roles.`,
      );
    }
  }

  isAdmin(interaction: BaseInteraction): boolean {
    if (interaction.memberPermissions?.has(PermissionFlagsBits.Administrator)) return true;
    const roles = interaction.member?.roles;
    // An uncached member arrives as raw API data (role ids); a cached one as a GuildMember.
    const ids: readonly string[] = Array.isArray(roles) ? roles : roles ? [...roles.cache.keys()] : [];
    return ids.some((id) => this.settings.adminRoleIds.includes(id));
  }
}

/** What an admin-only attempt is, as a refusal names it. */
function activity(action: AuditAction | undefined): string {
  // Tokens are admin-only even to list: a member listing them changes nothing.
  if (action?.startsWith('token-')) return 'Managing API tokens';
  return 'Changing configuration';
}

export function actorOf(interaction: BaseInteraction): Actor {
  return { id: interaction.user.id, tag: interaction.user.tag };
}

export function contextOf(interaction: BaseInteraction): RequestContext {
  return {
    ...(interaction.guildId ? { guildId: interaction.guildId } : {}),
    ...(interaction.channelId ? { channelId: interaction.channelId } : {}),
  };
}
