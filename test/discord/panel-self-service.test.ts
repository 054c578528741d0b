import { describe, expect, it, onTestFinished } from 'vitest';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { PanelLogins } from '../../src/tokens/panel-logins.js';
import { openService, openTestDb } from '../helpers/db.js';
import { as, OTHER_GUILD, startBot } from '../helpers/discord.js';

const LINK = /\/panel\/login\/([A-Za-z0-9_-]{43})/;

async function botWith(label: string, selfService: boolean) {
  const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
  if (selfService)
    defs.AI_CONFIDENCE_THRESHOLD = {
      ...defs.AI_CONFIDENCE_THRESHOLD,
      guildSelfService: true,
    } as KeyDefinition;
  const db = await openTestDb(label);
  const svc = await openService(db, { registry: buildRegistry(defs) });
  const logins = new PanelLogins(svc.conn, { idleMs: 60_000, maxMs: 3_600_000 });
  const bot = await startBot(svc, {}, undefined, { logins, url: 'http://127.0.0.1:9' });
  onTestFinished(async () => {
    await bot.close();
    await svc.close();
    await db.drop();
  });
  return { bot, logins };
}

describe('/config panel from a server outside the allowlist (guild self-service)', () => {
  it("gives that server's Administrator a link confined to the server's own scope", async () => {
    const { bot, logins } = await botWith('panel_self_service', true);
    const [, reply] = await bot.session(as.foreignAdmin()).run('/config panel');
    const secret = LINK.exec(reply?.content ?? '')?.[1] ?? '';
    expect(await logins.checkLink(secret)).toMatchObject({
      guildId: OTHER_GUILD,
      access: 'write',
      ownScope: `guild:${OTHER_GUILD}`,
    });
  });

  it('refuses it when no key is open to self-service, making no link', async () => {
    const { bot } = await botWith('panel_no_self_service', false);
    const replies = await bot.session(as.foreignAdmin()).run('/config panel');
    expect(JSON.stringify(replies)).not.toMatch(LINK);
    expect(JSON.stringify(replies)).toContain(
      "This server is not allowed to manage this application's configuration.",
    );
  });
});
