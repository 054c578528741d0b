import { TokenStore } from '../tokens/tokens.js';
import type { ConfigService } from '../config/service.js';
import { FlagStore } from '../flags/flags.js';
import { AccessPolicy } from './access.js';
import { Confirmations } from './confirmations.js';
import { RateRecords } from '../storage/rate-limits.js';
import { WriteRateLimiter } from './rate-limit.js';
import { Suggestions } from './suggestions.js';
import type { CommandContext, ProcessInfo } from './types.js';

export interface DiscordSettings {
  allowedGuildIds: readonly string[];
  adminRoleIds: readonly string[];
  /** Committed changes one user may make per minute (WRITE_RATE_LIMIT_PER_MIN). */
  changesPerMinute?: number;
  /** Write attempts, refused ones included, one user may make per minute (WRITE_ATTEMPTS_PER_MIN). */
  attemptsPerMinute?: number;
  confirmTimeoutMs: number;
  /** FLAG_STALE_DAYS (default 30). */
  flagStaleDays?: number;
  /** APPROVAL_CHANNEL_ID: where change requests are posted. */
  approvalChannelId?: string;
}

/** The environment variables the Discord side reads (src/app/env.ts parses and checks them). */
export interface DiscordEnv {
  DISCORD_CLIENT_ID?: string | undefined;
  DISCORD_GUILD_ID?: string | undefined;
  ALLOWED_GUILD_IDS?: string[] | undefined;
  ADMIN_ROLE_IDS: string[];
  WRITE_RATE_LIMIT_PER_MIN: number;
  WRITE_ATTEMPTS_PER_MIN: number;
  CONFIRM_TIMEOUT_MS: number;
  FLAG_STALE_DAYS: number;
  APPROVAL_CHANNEL_ID?: string | undefined;
}

/** ALLOWED_GUILD_IDS, or the home guild (DISCORD_GUILD_ID, else `fallbackHome`) alone when unset. */
export function discordSettings(env: DiscordEnv, fallbackHome?: string): DiscordSettings {
  const home = env.DISCORD_GUILD_ID ?? fallbackHome;
  return {
    allowedGuildIds: env.ALLOWED_GUILD_IDS ?? (home ? [home] : []),
    adminRoleIds: env.ADMIN_ROLE_IDS,
    changesPerMinute: env.WRITE_RATE_LIMIT_PER_MIN,
    attemptsPerMinute: env.WRITE_ATTEMPTS_PER_MIN,
    confirmTimeoutMs: env.CONFIRM_TIMEOUT_MS,
    flagStaleDays: env.FLAG_STALE_DAYS,
    ...(env.APPROVAL_CHANNEL_ID ? { approvalChannelId: env.APPROVAL_CHANNEL_ID } : {}),
  };
}

/**
 * What every handler receives. `flags` is the process's loaded FlagStore (runtime.flags); without
 * one, a store over the same collections is made, which holds no flag until it is loaded: for
 * contexts that serve no /flag (one-off scripts, tests of other commands).
 */
export function createCommandContext(
  config: ConfigService,
  settings: DiscordSettings,
  runtime?: ProcessInfo,
  flags: FlagStore = new FlagStore(config),
  panel?: CommandContext['panel'],
): CommandContext {
  return {
    config,
    access: new AccessPolicy(settings),
    limits: new WriteRateLimiter(new RateRecords(config.conn), config.health, {
      changes: settings.changesPerMinute ?? 10,
      attempts: settings.attemptsPerMinute ?? 30,
    }),
    confirmations: new Confirmations(settings.confirmTimeoutMs),
    tokens: new TokenStore(config.conn),
    flags,
    suggestions: new Suggestions(config.health),
    flagStaleDays: settings.flagStaleDays ?? 30,
    ...(runtime ? { runtime } : {}),
    ...(panel ? { panel } : {}),
    ...(settings.approvalChannelId ? { approvalChannelId: settings.approvalChannelId } : {}),
  };
}

/** The application id is the first part of a bot token, base64-encoded. */
export function applicationIdFromToken(token: string): string | undefined {
  const first = token.split('.')[0] ?? '';
  const id = Buffer.from(first, 'base64').toString('utf8');
  return /^\d{15,21}$/.test(id) ? id : undefined;
}
