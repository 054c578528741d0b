import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jsonObject, integer } from '../../src/config/kinds.js';
import { buildRegistry, type KeyDefinition } from '../../src/config/registry.js';
import type { ConfigService } from '../../src/config/service.js';
import { ConsoleSession } from '../../src/offline/console-session.js';
import { createCommandContext } from '../../src/discord/context.js';
import { OfflineDiscord } from '../../src/offline/harness.js';
import { loadCommands } from '../../src/discord/loader.js';
import { LIMITS } from '../../src/discord/render.js';
import { openService, openTestDb, type TestDb } from '../helpers/db.js';
import { APP_ID, as, HOME_GUILD, startBot, type Bot } from '../helpers/discord.js';
import { captureLogs } from '../helpers/logs.js';

let db: TestDb;
let svc: ConfigService;
let bot: Bot;

/** 60 keys with long descriptions: more than one embed can hold. */
function bigRegistry() {
  const defs: Record<string, KeyDefinition> = {};
  for (let i = 0; i < 60; i++) {
    const kind = i % 2 ? integer({ min: 0, max: 10 }) : jsonObject(z.object({ n: z.number() }));
    defs[`KEY_${String(i).padStart(2, '0')}`] = {
      ...kind,
      category: i < 30 ? 'export' : 'system',
      description: `Setting number ${i}: ${'a long description that explains what it does '.repeat(4)}`,
      default: i % 2 ? 1 : { n: i },
      sensitive: false,
      requiresRestart: false,
    } as KeyDefinition;
  }
  return buildRegistry(defs);
}

beforeAll(async () => {
  db = await openTestDb('discord_dispatch');
  svc = await openService(db, { registry: bigRegistry() });
  bot = await startBot(svc);
});
afterAll(async () => {
  await bot.close();
  await svc.close();
  await db.drop();
});

describe('/config list paging', () => {
  it("pages with buttons within Discord's embed limits and walks every key", async () => {
    const s = bot.session();
    let [page] = await s.run('/config list');
    const seen: string[] = [];
    for (let n = 0; n < 10; n++) {
      const embed = page?.embeds[0];
      const fields = embed?.fields ?? [];
      expect(fields.length).toBeLessThanOrEqual(LIMITS.fields);
      const size =
        (embed?.title?.length ?? 0) +
        (embed?.footer?.text.length ?? 0) +
        fields.reduce((a, f) => a + f.name.length + f.value.length, 0);
      expect(size).toBeLessThanOrEqual(LIMITS.embed);
      expect(fields.every((f) => f.value.length <= LIMITS.fieldValue)).toBe(true);
      seen.push(...fields.map((f) => f.name.split(' · ')[1] ?? ''));
      if (/Page (\d+)\/\1/.test(embed?.footer?.text ?? '')) break;
      [page] = await s.press('Next');
      expect(page?.kind).toBe('update');
    }
    expect(new Set(seen).size).toBe(60);
    const [back] = await s.press('Previous');
    expect(back?.embeds[0]?.footer?.text).toMatch(/^Page \d+\/\d+/);
  });

  it('offers at most 25 autocomplete choices', async () => {
    const choices = await bot.session().complete('/config view setting:KEY');
    expect(choices).toHaveLength(25);
  });
});

describe('unexpected errors', () => {
  const brokenDir = fileURLToPath(new URL('../fixtures/commands/', import.meta.url));

  it.each([
    ['before', 'reply'],
    ['after', 'editReply'],
    ['replied', 'followUp'],
  ])(
    'thrown %s deferring: answered with %s, an error id and no detail; details go to the log',
    async (when, kind) => {
      const ctx = createCommandContext(svc, {
        allowedGuildIds: [HOME_GUILD],
        adminRoleIds: [],
        confirmTimeoutMs: 60_000,
      });
      const discord = new OfflineDiscord(await loadCommands(brokenDir), ctx, APP_ID);
      const logs = captureLogs();
      const replies = await new ConsoleSession(discord, as.admin()).run(`/broken when:${when}`);
      logs.stop();
      await discord.destroy();
      const last = replies.at(-1);
      expect(last?.kind).toBe(kind);
      const text = JSON.stringify(last);
      const id = /give this id to the bot's operators: `([0-9a-f]{8})`/.exec(
        last?.embeds[0]?.description ?? '',
      )?.[1];
      expect(id).toBeDefined();
      expect(text).not.toContain('hunter2');
      expect(text).not.toMatch(/at .*\.ts:\d+/);
      expect(logs.lines.find((l) => l.includes(id ?? 'none'))).toContain('hunter2');
    },
  );
});
