import { onTestFinished } from 'vitest';
import type { ConfigService } from '../../src/config/service.js';
import type { DiscordSettings } from '../../src/discord/context.js';
import { openService, openTestDb, type TestDb, type TestServiceOptions } from './db.js';
import { startBot, type Bot } from './discord.js';

/**
 * A database and a started ConfigService of the calling test's own, dropped when the test ends:
 * a test that needs them depends on no other test and on no order.
 */
export async function freshService(
  label: string,
  opts: TestServiceOptions = {},
): Promise<{ db: TestDb; svc: ConfigService }> {
  const db = await openTestDb(label);
  const svc = await openService(db, opts);
  onTestFinished(async () => {
    await svc.close();
    await db.drop();
  });
  return { db, svc };
}

/**
 * An offline bot over a service and database of the calling test's own, closed when the test
 * ends (see freshService).
 */
export async function freshBot(
  label: string,
  overrides: Partial<DiscordSettings> = {},
): Promise<{ db: TestDb; svc: ConfigService; bot: Bot }> {
  const { db, svc } = await freshService(label);
  const bot = await startBot(svc, overrides);
  onTestFinished(() => bot.close());
  return { db, svc, bot };
}
