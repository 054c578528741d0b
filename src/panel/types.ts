import type { ConfigService } from '../config/service.js';
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
  /** Whether the local admin may log in (only while Discord is not connected: the first run). */
  localAdmin: boolean;
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
  }
  interface FastifyRequest {
    /** The panel session of the request, set by the panel's hook. */
    panelSession?: PanelSessionDoc;
  }
}
