import type { ConfigService } from '../config/service.js';
import type { AuditAction } from '../storage/config-models.js';
import type { OAuthSettings } from './discord-oauth.js';
import type { ChangeFeed } from '../changes/feed.js';
import type { InstanceStore } from '../changes/instances.js';
import type { FlagStore } from '../flags/flags.js';
import type { Scheduler } from '../jobs/scheduler.js';
import type { PanelAccess, PanelLogins, PanelSessionDoc } from '../tokens/panel-logins.js';

/** What the panel needs of the running process. */
export interface PanelDeps {
  config: ConfigService;
  feed: ChangeFeed;
  instances: InstanceStore;
  flags: FlagStore;
  scheduler?: Scheduler | undefined;
  logins: PanelLogins;
  /** The panel's public address (PANEL_URL): the only origin a state-changing request may come from. */
  baseUrl(): string;
  /**
   * The bot's access rule asked again for a Discord user (the bot's Discord client, when it runs
   * one): `none` or `read` refuses a write; undefined (Discord unreachable, or no client) keeps the
   * session's level.
   */
  recheck?:
    | ((
        guildId: string,
        userId: string,
        selfService: boolean,
      ) => Promise<'none' | 'read' | 'write' | undefined>)
    | undefined;
  /** Logging in with Discord (OAuth2), when DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET are set. */
  oauth?: OAuthSettings | undefined;
  /** The keys the API of this process served most since it started (its read counter), most first. */
  mostRead?: ((limit: number) => Promise<{ key: string; reads: number }[]>) | undefined;
  /** Whether the local admin may log in (only while Discord is not connected: the first run). */
  localAdmin: boolean;
  /** FLAG_STALE_DAYS: a release flag fully on or off and unchanged this long is marked stale. Default 30. */
  flagStaleDays?: number;
  /** Counts a user's write attempts and changes with the bot's own limits (shared with Discord). */
  limits: PanelLimits;
}

/** The bot's per-user write limits, as the panel uses them (WriteRateLimiter). */
export interface PanelLimits {
  checkAttempt(
    userId: string,
    attempt: { key: string; action: string },
  ): Promise<{ settle(): Promise<void> }>;
  recordChange(userId: string): Promise<void>;
}

/**
 * What a panel route requires, declared once in its `config.panel` and enforced by one hook:
 * `none` (the login pages), or a session with read or write access.
 */
export type PanelRequirement = 'none' | PanelAccess;

declare module 'fastify' {
  interface FastifyContextConfig {
    panel?: PanelRequirement;
    /** What a refused write of this route is audited as (default `set`). */
    panelAction?: AuditAction;
  }
  interface FastifyRequest {
    /** The panel session of the request, set by the panel's hook. */
    panelSession?: PanelSessionDoc;
  }
}
