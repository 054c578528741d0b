import { describe, expect, it, onTestFinished } from 'vitest';
import { text } from '../../src/config/kinds.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { MAX_REASON_LENGTH, MAX_VALUE_LENGTH } from '../../src/config/validate.js';
import { messageProblems } from '../../src/offline/limits.js';
import type { MessageBody } from '../../src/discord/limits.js';
import { startBot } from '../helpers/discord.js';
import { freshService } from '../helpers/fresh.js';

/** The shipped keys plus a free-text one, so values can be as long as Discord lets anyone type. */
function registryWithNote() {
  const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
  defs.NOTE = {
    ...text({ max: MAX_VALUE_LENGTH }),
    category: 'system',
    description: 'A note as long as a value may be',
    default: 'short',
    sensitive: false,
  } as KeyDefinition;
  return buildRegistry(defs);
}

/**
 * Texts of exactly `length` UTF-16 units (what the bot's own limits count) built of what grows
 * most when shown: markdown that escaping doubles, mentions, emoji (two units, one character),
 * a right-to-left override that is shown visibly. No spaces or quotes: one console token.
 */
function hostile(length: number, seed: number): string {
  const unit = `*_~|>\`@everyone<@${seed}>😀‮#`;
  return unit
    .repeat(Math.ceil(length / unit.length))
    .slice(0, length)
    .replace(/[\uD800-\uDBFF]$/, 'x');
}

describe('every reply, whatever the data', () => {
  it(
    'fits Discord’s limits for every subcommand, page and button, with values and reasons at their longest',
    { timeout: 120_000 },
    async () => {
      const { svc } = await freshService('reply_limits', { registry: registryWithNote() });
      const bot = await startBot(svc, { changesPerMinute: 10_000, attemptsPerMinute: 10_000 });
      onTestFinished(() => bot.close());
      const s = bot.session();
      const reason = (i: number) => hostile(MAX_REASON_LENGTH, i);
      // A history of long values with long reasons: 30 versions, more than a page of 25.
      for (let i = 0; i < 30; i++) {
        const r = (
          await s.run(`/config set setting:NOTE value:${hostile(MAX_VALUE_LENGTH, i)} reason:${reason(i)}`)
        ).at(-1);
        expect(r?.embeds[0]?.title ?? JSON.stringify(r).slice(0, 300), `set ${i}`).toMatch(/NOTE/);
      }
      await s.run('/config view setting:NOTE');
      await s.run(
        `/config set setting:MAX_BATCH_SIZE value:${hostile(MAX_VALUE_LENGTH, 99)} reason:${reason(99)}`,
      );
      await s.run(`/config set setting:NOTE value:${hostile(MAX_VALUE_LENGTH, 29)} reason:${reason(7)}`); // unchanged
      await s.run('/config list');
      await s.run('/config history setting:NOTE limit:25');
      await s.press('Older');
      await s.press('Newer');
      await s.run('/config history setting:NOTE limit:1');
      await s.run(`/config rollback setting:NOTE version:2 reason:${reason(3)}`);
      await s.press('Confirm');
      await s.run(`/config rollback setting:NOTE version:999999 reason:${reason(4)}`);
      await s.run(`/config reset setting:NOTE reason:${reason(5)}`);
      await s.press('Cancel');
      await s.run(`/config reset setting:NOTE reason:${reason(6)}`);
      await s.press('Confirm');
      await s.run('/config status');
      await s.complete('/config view setting:');
      await s.complete('/config rollback setting:NOTE version:');
      await s.complete('/config set setting:NOTE value:');

      const discord = bot.discord;
      expect(discord.violations).toEqual([]);
      // Checked here again, on every body the bot sent, with the harness's own rules.
      const bodies = discord.calls.map((c) => c.body).filter((b): b is MessageBody => Boolean(b));
      expect(bodies.length).toBeGreaterThan(40);
      for (const body of bodies) expect(messageProblems(body)).toEqual([]);
      // Some of them really were at the edge: the history page was cut to fit.
      const history = bodies.find((b) => b.embeds?.[0]?.title?.includes('History of NOTE'));
      expect(history).toBeDefined();
    },
  );
});
