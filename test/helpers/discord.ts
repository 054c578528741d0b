import { afterAll, beforeAll } from 'vitest';
import type { ConfigService } from '../../src/config/service.js';
import { openService, openTestDb, type TestDb } from './db.js';
import { ConsoleSession } from '../../src/offline/console-session.js';
import { createCommandContext, type DiscordSettings } from '../../src/discord/context.js';
import { OfflineDiscord } from '../../src/offline/harness.js';
import { loadCommands } from '../../src/discord/loader.js';
import { ADMIN_PERMISSIONS, MEMBER_PERMISSIONS, type Simulated } from '../../src/offline/simulated.js';
import type { CommandContext } from '../../src/discord/types.js';
import { FlagStore } from '../../src/flags/flags.js';
import type { RuntimeInfo } from '../../src/app/runtime.js';

export const HOME_GUILD = '900000000000000001';
export const OTHER_GUILD = '900000000000000002';
export const CHANNEL = '910000000000000001';
export const ADMIN_ROLE = '920000000000000001';
export const APP_ID = '930000000000000001';

export const as = {
  admin: (): Simulated => ({
    applicationId: APP_ID,
    guildId: HOME_GUILD,
    channelId: CHANNEL,
    user: { id: '100000000000000001', username: 'admin' },
    permissions: ADMIN_PERMISSIONS,
    roles: [],
  }),
  otherAdmin: (): Simulated => ({
    ...as.admin(),
    user: { id: '100000000000000003', username: 'other_admin' },
  }),
  member: (): Simulated => ({
    ...as.admin(),
    user: { id: '100000000000000002', username: 'member' },
    permissions: MEMBER_PERMISSIONS,
  }),
  roleAdmin: (): Simulated => ({
    ...as.admin(),
    user: { id: '100000000000000004', username: 'role_admin' },
    permissions: MEMBER_PERMISSIONS,
    roles: [ADMIN_ROLE],
  }),
  foreignAdmin: (): Simulated => ({
    ...as.admin(),
    guildId: OTHER_GUILD,
    user: { id: '100000000000000005', username: 'foreign' },
  }),
  dm: (): Simulated => ({
    ...as.admin(),
    guildId: null,
    user: { id: '100000000000000001', username: 'admin' },
  }),
};

export interface Bot {
  discord: OfflineDiscord;
  ctx: CommandContext;
  session(sim?: Simulated): ConsoleSession;
  close(): Promise<void>;
}

/** The real command handlers behind an offline discord.js Client, over a real ConfigService. */
export async function startBot(
  config: ConfigService,
  overrides: Partial<DiscordSettings> = {},
  runtime?: RuntimeInfo & { flags?: FlagStore },
  /** Where /config panel makes its links (a running panel's logins and address); default none. */
  panel?: CommandContext['panel'],
): Promise<Bot> {
  // The runtime's flags when there is one; otherwise a store of this service's own, loaded when
  // the database answers (a bot started during an outage has no flags until then, as in production).
  let flags = runtime?.flags;
  if (!flags) {
    flags = new FlagStore(config);
    if (config.stats().database === 'connected') await flags.load();
  }
  const ctx = createCommandContext(
    config,
    {
      allowedGuildIds: [HOME_GUILD],
      adminRoleIds: [ADMIN_ROLE],
      confirmTimeoutMs: 60_000,
      ...overrides,
    },
    runtime,
    flags,
    panel,
  );
  const discord = new OfflineDiscord(await loadCommands(), ctx, APP_ID);
  return {
    discord,
    ctx,
    session: (sim = as.admin()) => new ConsoleSession(discord, sim),
    async close() {
      ctx.confirmations.clear();
      await discord.destroy();
    },
  };
}

export interface BotFixture {
  readonly db: TestDb;
  readonly svc: ConfigService;
  readonly bot: Bot;
}

/**
 * A test file's own database, ConfigService and offline bot, opened before its tests and closed
 * after them. Read the fields inside tests (they exist once beforeAll has run).
 */
export function useBot(label: string, overrides: Partial<DiscordSettings> = {}): BotFixture {
  const f = {} as { db: TestDb; svc: ConfigService; bot: Bot };
  beforeAll(async () => {
    f.db = await openTestDb(label);
    f.svc = await openService(f.db);
    f.bot = await startBot(f.svc, overrides);
  });
  afterAll(async () => {
    await f.bot.close();
    await f.svc.close();
    await f.db.drop();
  });
  return f;
}

/**
 * Text as Discord displays it: markdown escapes undone and the zero-width spaces that break
 * mentions removed. Tests compare what a user reads, whatever escaping made it safe.
 */
export function displayed(text: string | undefined): string {
  return (text ?? '').replace(/\\([^a-zA-Z0-9\s])/g, '$1').replace(/\u200b/g, '');
}
