import { TokenStore } from '../api/tokens.js';
import type { ConfigService } from '../config/service.js';
import type { Env } from '../env.js';
import type { RuntimeInfo } from '../runtime.js';
import { AccessPolicy } from './access.js';
import { Confirmations } from './confirmations.js';
import { RateRecords, WriteRateLimiter } from './rate-limit.js';
import type { CommandContext } from './types.js';

export interface DiscordSettings {
  allowedGuildIds: readonly string[];
  adminRoleIds: readonly string[];
  /** Committed changes one user may make per minute (WRITE_RATE_LIMIT_PER_MIN). */
  changesPerMinute?: number;
  /** Write attempts, refused ones included, one user may make per minute (WRITE_ATTEMPTS_PER_MIN). */
  attemptsPerMinute?: number;
  confirmTimeoutMs: number;
}

/** ALLOWED_GUILD_IDS, or the home guild (DISCORD_GUILD_ID, else `fallbackHome`) alone when unset. */
export function discordSettings(env: Env, fallbackHome?: string): DiscordSettings {
  const home = env.DISCORD_GUILD_ID ?? fallbackHome;
  return {
    allowedGuildIds: env.ALLOWED_GUILD_IDS ?? (home ? [home] : []),
    adminRoleIds: env.ADMIN_ROLE_IDS,
    changesPerMinute: env.WRITE_RATE_LIMIT_PER_MIN,
    attemptsPerMinute: env.WRITE_ATTEMPTS_PER_MIN,
    confirmTimeoutMs: env.CONFIRM_TIMEOUT_MS,
  };
}

export function createCommandContext(
  config: ConfigService,
  settings: DiscordSettings,
  runtime?: RuntimeInfo,
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
    ...(runtime ? { runtime } : {}),
  };
}

/** The application id is the first part of a bot token, base64-encoded. */
export function applicationIdFromToken(token: string): string | undefined {
  const first = token.split('.')[0] ?? '';
  const id = Buffer.from(first, 'base64').toString('utf8');
  return /^\d{15,21}$/.test(id) ? id : undefined;
}
