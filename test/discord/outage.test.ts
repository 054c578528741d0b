import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../helpers/discord.js';
import { skipWithoutOwnServer, startOwnServer, type OwnServer } from '../helpers/db.js';
import { outageBot, type Planned } from './outage-bot.js';

// Discord shows "The application did not respond" when an interaction's first response (a reply,
// a deferral, a form, autocomplete choices) comes later than 3 s; the offline Discord refuses such
// a response with 404 Unknown interaction, as Discord does, and records it as a violation. These
// tests send everything a user can send while the database is down, all at once, and check that
// every interaction got its first response in time.

let own: Awaited<ReturnType<typeof startOwnServer>>;
beforeAll(async () => {
  own = await startOwnServer();
});
afterAll(async () => {
  await own?.server?.cleanup();
});

/**
 * Sends every planned interaction at once and waits until each has had its first response (or
 * 20 s, far past Discord's window); returns what is still unanswered and the runs to wait for.
 */
async function sendAll(bot: Bot, planned: Planned[]) {
  const discord = bot.discord;
  const from = discord.calls.length;
  const payloads = planned.map((p) => p.payload());
  const what = new Map(payloads.map((p, n) => [p.token, planned[n]?.what ?? '?']));
  const runs = payloads.map((p) => discord.dispatch(p));
  for (let waited = 0; discord.unanswered().length && waited < 20_000; waited += 100) await sleep(100);
  const unanswered = discord.unanswered().map((t) => what.get(t));
  const late = () =>
    discord.violations.map(
      (v) =>
        `${what.get(/\/interactions\/\d+\/([^/]+)\//.exec(v.path)?.[1] ?? '') ?? v.path}: ${v.code} ${v.problems.join('; ')}`,
    );
  return { from, unanswered, late, done: Promise.all(runs) };
}

/** No interaction left unanswered, none answered late (refused as Discord would), one first response each. */
async function expectAllInTime(bot: Bot, planned: Planned[], sent: Awaited<ReturnType<typeof sendAll>>) {
  await sent.done;
  expect({ unanswered: sent.unanswered, refused: sent.late() }).toEqual({ unanswered: [], refused: [] });
  expect(bot.discord.calls.slice(sent.from).filter((c) => c.afterMs !== undefined)).toHaveLength(
    planned.length,
  );
}

/** Buttons that need what these tests do not make: a second page of /config list (it answers from memory). */
const NOT_PRESSED = new Set(['config:list']);

describe("every interaction is answered within Discord's 3 s while the database is down", () => {
  it('with the database server killed', { timeout: 120_000 }, async (ctx) => {
    const server: OwnServer = skipWithoutOwnServer(own, ctx, 'Discord outage test');
    const f = await outageBot('discord_outage_killed', server.uri);
    const planned = f.planned();
    const pressed = f.pressedKinds();
    for (const [name, command] of f.bot.discord.commands)
      for (const kind of Object.keys(command.buttonRequires ?? {}))
        if (!NOT_PRESSED.has(`${name}:${kind}`))
          expect(pressed, 'a button kind never pressed').toContain(`${name}:${kind}`);
    await server.kill();
    try {
      // At once (the driver still holds connections to the dead server), then once the outage is
      // known (every operation then waits for a server to be selected).
      await expectAllInTime(f.bot, planned, await sendAll(f.bot, planned));
      await expect.poll(() => f.svc.stats().database, { timeout: 15_000 }).toBe('unavailable');
      const again = f.planned();
      await expectAllInTime(f.bot, again, await sendAll(f.bot, again));
      // What autocomplete read before the outage it still offers.
      const versions = await f.bot.session().complete('/config rollback setting:MAX_BATCH_SIZE version:');
      expect(versions).toEqual(f.remembered);
    } finally {
      await server.restart();
    }
  });

  it(
    'with the database server paused (SIGSTOP: the driver waits instead of failing)',
    { timeout: 120_000 },
    async (ctx) => {
      const server: OwnServer = skipWithoutOwnServer(own, ctx, 'Discord outage test');
      const f = await outageBot('discord_outage_paused', server.uri);
      const planned = f.planned();
      const pid = server.pid;
      if (pid === undefined) throw new Error('the database server has no pid');
      process.kill(pid, 'SIGSTOP');
      let resumed = false;
      try {
        const sent = await sendAll(f.bot, planned);
        process.kill(pid, 'SIGCONT');
        resumed = true;
        await expectAllInTime(f.bot, planned, sent);
      } finally {
        if (!resumed) process.kill(pid, 'SIGCONT');
      }
    },
  );
});
