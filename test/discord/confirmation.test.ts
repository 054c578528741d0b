import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { buttonsOf } from '../../src/offline/console-session.js';
import { actor } from '../helpers/db.js';
import { as, displayed } from '../helpers/discord.js';
import { freshBot } from '../helpers/fresh.js';

/**
 * A bot of the test's own where MAX_BATCH_SIZE has versions 1 (100), 2 (200) and 3 (300). A short
 * expiry lets a test watch it happen; the product default is 60 seconds.
 */
async function botWithHistory(label: string) {
  const { db, svc, bot } = await freshBot(label, { confirmTimeoutMs: 1500 });
  await svc.set('MAX_BATCH_SIZE', '200', actor());
  await svc.set('MAX_BATCH_SIZE', '300', actor());
  const versions = async () => bindModels(db.conn).ConfigVersion.countDocuments({ key: 'MAX_BATCH_SIZE' });
  return { db, svc, bot, versions };
}

describe('rollback and reset confirmation', () => {
  it('shows current and new value with Confirm and Cancel, and Confirm writes a new version', async () => {
    const { db, svc, bot, versions } = await botWithHistory('confirm');
    const s = bot.session();
    const [defer, prompt] = await s.run(
      '/config rollback setting:MAX_BATCH_SIZE version:2 reason:"300 was too many"',
    );
    expect(defer?.kind).toBe('defer');
    expect(prompt?.embeds[0]?.title).toBe('Roll back MAX_BATCH_SIZE to version 2?');
    expect(prompt?.embeds[0]?.fields?.slice(0, 2).map((f) => f.value)).toEqual(['300 (v3)', '200']);
    // The impact preview: where it lands and the exact way back.
    const fields = Object.fromEntries((prompt?.embeds[0]?.fields ?? []).map((f) => [f.name, f.value]));
    expect(fields['Per environment']).toBe('production: 300 → 200');
    expect(fields['Way back']).toBe('/config rollback setting:MAX\\_BATCH\\_SIZE version:3');
    expect(buttonsOf({ components: prompt?.components ?? [] }).map((b) => b.label)).toEqual([
      'Confirm',
      'Cancel',
    ]);
    expect(await versions()).toBe(3);

    const done = await s.press('confirm');
    expect(done.map((r) => r.kind)).toEqual(['deferUpdate', 'editReply']);
    expect(done[1]?.embeds[0]?.title).toBe('Rolled back MAX_BATCH_SIZE');
    expect(done[1]?.components).toEqual([]);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(200);
    const v4 = await bindModels(db.conn).ConfigVersion.findOne({ key: 'MAX_BATCH_SIZE', version: 4 }).lean();
    expect(v4).toMatchObject({ action: 'rollback', value: 200, restoredFrom: 2, reason: '300 was too many' });
  });

  it('Cancel changes nothing and removes the buttons', async () => {
    const { svc, bot, versions } = await botWithHistory('cancel');
    const s = bot.session();
    await s.run('/config reset setting:MAX_BATCH_SIZE');
    const [cancelled] = await s.press('Cancel');
    expect(cancelled?.kind).toBe('update');
    expect(cancelled?.embeds[0]?.title).toBe('Cancelled: reset of MAX_BATCH_SIZE');
    expect(cancelled?.components).toEqual([]);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(300);
    expect(await versions()).toBe(3);
  });

  it('refuses another admin pressing the buttons, and audits the attempt', async () => {
    const { db, svc, bot } = await botWithHistory('intruder');
    const owner = bot.session();
    await owner.run('/config reset setting:MAX_BATCH_SIZE');
    const intruder = bot.session(as.otherAdmin());
    // The intruder presses the same message (as if it were visible to them).
    const prompt = owner.current();
    if (!prompt) throw new Error('no prompt');
    const [refusal] = await intruder.pressOn(prompt, 'Confirm');
    expect(refusal?.kind).toBe('reply');
    expect(displayed(refusal?.embeds[0]?.description)).toBe(
      'Only the admin who asked for this reset can confirm or cancel it.',
    );
    expect(svc.get('MAX_BATCH_SIZE')).toBe(300);
    const denied = await bindModels(db.conn)
      .ConfigAudit.findOne({ status: 'denied', 'actor.id': as.otherAdmin().user.id })
      .lean();
    expect(denied).toMatchObject({ key: 'MAX_BATCH_SIZE', action: 'reset' });
    // The owner can still confirm.
    await owner.press('Confirm');
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
  });

  it('expires, says so in the message, and a late press changes nothing', async () => {
    const { svc, bot } = await botWithHistory('expire');
    const s = bot.session();
    await s.run('/config set setting:MAX_BATCH_SIZE value:500');
    const from = bot.discord.calls.length;
    await s.run('/config reset setting:MAX_BATCH_SIZE');
    const expiry = await bot.discord.waitForCall(
      (c) => c.kind === 'editReply' && /Expired/.test(JSON.stringify(c.body)),
      from,
      5000,
    );
    expect(JSON.stringify(expiry.body)).toMatch(/Not confirmed within 2 seconds; nothing was changed/);
    expect(s.current()?.components).toEqual([]);
    // Pressing the stale prompt (a client that had not refreshed yet) is answered, not executed.
    const stale = bot.discord.calls
      .slice(from)
      .find(
        (c) =>
          c.kind === 'editReply' &&
          Array.isArray(c.body?.components) &&
          (c.body?.components as unknown[]).length,
      );
    const expired = s.current();
    if (!expired || !stale) throw new Error('no prompt');
    const [late] = await s.pressOn(
      { ...expired, components: stale.body?.components as typeof expired.components },
      'Confirm',
    );
    expect(late?.embeds[0]?.title).toBe('Expired');
    expect(svc.get('MAX_BATCH_SIZE')).toBe(500);
  });

  it('refuses to confirm when the value changed since the preview, and audits the refusal', async () => {
    const { db, svc, bot } = await botWithHistory('moved');
    const s = bot.session();
    await s.run('/config reset setting:MAX_BATCH_SIZE');
    await svc.set('MAX_BATCH_SIZE', '600', { id: 'someone', tag: 'someone' });
    const [, result] = await s.press('Confirm');
    expect(displayed(result?.embeds[0]?.description)).toMatch(
      /changed since this preview \(v3 → v4\); nothing was changed/,
    );
    expect(svc.get('MAX_BATCH_SIZE')).toBe(600);
    const row = await bindModels(db.conn)
      .ConfigAudit.findOne({ key: 'MAX_BATCH_SIZE', action: 'reset', status: 'failed' })
      .lean();
    expect(row).toMatchObject({ actor: { id: as.admin().user.id } });
    expect(row?.error).toMatch(/changed since this preview/);
  });

  it('refuses a rollback to a version that does not exist, without a prompt, and audits it', async () => {
    const { db, bot } = await botWithHistory('missing');
    const [, reply] = await bot.session().run('/config rollback setting:MAX_BATCH_SIZE version:99');
    expect(displayed(reply?.embeds[0]?.description)).toMatch(/has no version 99/);
    expect(reply?.components).toEqual([]);
    const rows = await bindModels(db.conn).ConfigAudit.find({ action: 'rollback', status: 'failed' }).lean();
    expect(rows.map((r) => r.error)).toEqual([expect.stringMatching(/has no version 99/)]);
  });

  it('audits a reset refused because the key is already at its default', async () => {
    const { db, bot } = await botWithHistory('reset_default');
    const [, reply] = await bot.session().run('/config reset setting:LOG_LEVEL');
    expect(displayed(reply?.embeds[0]?.description)).toMatch(/LOG_LEVEL is already info \(its default\)/);
    expect(
      await bindModels(db.conn).ConfigAudit.countDocuments({
        key: 'LOG_LEVEL',
        action: 'reset',
        status: 'failed',
      }),
    ).toBe(1);
  });
});
