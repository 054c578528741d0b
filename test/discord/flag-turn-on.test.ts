import type { APIMessage } from 'discord.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { buttonsOf } from '../../src/offline/console-session.js';
import { KillAlerts } from '../../src/discord/kill-alerts.js';
import { restNotifier } from '../../src/discord/notifier.js';
import { actor } from '../helpers/db.js';
import { as, CHANNEL, displayed } from '../helpers/discord.js';
import { freshBot } from '../helpers/fresh.js';

/**
 * A bot of the test's own whose flag `checkout` was switched off by the automatic kill (version
 * 2), with the alert posted through the bot's REST client to the channel.
 */
async function killed(label: string) {
  const { db, bot } = await freshBot(label);
  const flags = bot.ctx.flags;
  const alerts = new KillAlerts(db.conn, flags, restNotifier(bot.discord.client.rest), CHANNEL, 'test');
  alerts.start();
  onTestFinished(() => alerts.stop());
  await flags.create(
    {
      name: 'checkout',
      description: 'Checkout',
      type: 'ops',
      owner: 'payments',
      enabled: true,
      environments: ['production'],
    },
    actor(),
  );
  const from = bot.discord.calls.length;
  await flags.kill('checkout', '12 errors in 60 s');
  await bot.discord.waitForCall((c) => c.kind === 'channelMessage', from, 5000);
  const alert = [...bot.discord.messages.values()].find((m) =>
    m.content.includes('switched off automatically'),
  );
  if (!alert) throw new Error('no alert message');
  return { db, bot, flags, alert };
}

const current = (bot: { discord: { messages: Map<string, APIMessage> } }, m: APIMessage) =>
  bot.discord.messages.get(m.id);

describe('the turn-on button of an automatic-kill alert', () => {
  it('turns the flag back on and edits the alert to say who did it', async () => {
    const { bot, flags, alert } = await killed('flag_turn_on');
    expect(buttonsOf(alert).map((b) => b.customId)).toEqual(['flag:turn-on:checkout:2']);
    const replies = await bot.session().pressOn(alert, 'flag:turn-on:checkout:2');
    expect(replies.map((r) => r.kind)).toEqual(['deferUpdate', 'editReply', 'followUp']);
    expect(flags.get('checkout')).toMatchObject({ version: 3, flag: { enabled: true } });
    const edited = current(bot, alert);
    expect(edited?.content).toContain('switched off automatically');
    expect(edited?.content).toMatch(/✅ Turned back on by <@100000000000000001> \(version 2 → 3\)\.$/);
    expect(edited?.components).toEqual([]);
    expect(replies[2]?.flags).toBe(64);
    expect(replies[2]?.embeds[0]?.title).toBe('Turned back on checkout');
    const v3 = (await flags.history('checkout', { limit: 1 }))[0];
    expect(v3).toMatchObject({ reason: 'turned back on after the automatic kill', actor: { tag: 'admin' } });
  });

  it('changes nothing when the flag moved since the kill, and says so', async () => {
    const { bot, flags, alert } = await killed('flag_turn_on_moved');
    await bot.session().run('/flag rollout name:checkout percent:5');
    const replies = await bot.session(as.otherAdmin()).pressOn(alert, 'flag:turn-on:checkout:2');
    expect(flags.get('checkout')).toMatchObject({ version: 3, flag: { enabled: false, rollout: 5 } });
    expect(current(bot, alert)?.content).toMatch(
      /Not turned back on: checkout changed since the kill \(now version 3, off \(kill switch\)\)/,
    );
    expect(current(bot, alert)?.components).toEqual([]);
    expect(displayed(replies.at(-1)?.embeds[0]?.description)).toMatch(
      /checkout changed since the automatic kill \(v2 → v3\); nothing was changed/,
    );
  });

  it('refuses a member who is not an admin privately, audits it, and leaves the alert as it was', async () => {
    const { db, bot, flags, alert } = await killed('flag_turn_on_member');
    const [refusal] = await bot.session(as.member()).pressOn(alert, 'flag:turn-on:checkout:2');
    expect(refusal?.kind).toBe('reply');
    expect(refusal?.flags).toBe(64);
    expect(refusal?.embeds[0]?.title).toBe('Not allowed');
    expect(flags.get('checkout')?.flag.enabled).toBe(false);
    expect(current(bot, alert)?.components).toEqual(alert.components);
    const row = await bindModels(db.conn)
      .ConfigAudit.findOne({ status: 'denied', 'actor.id': as.member().user.id })
      .lean();
    expect(row).toMatchObject({ key: 'flag:checkout', action: 'flag-turn-on' });
  });
});
