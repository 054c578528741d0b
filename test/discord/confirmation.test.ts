import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels } from '../../src/config/models.js';
import type { ConfigService } from '../../src/config/service.js';
import { buttonsOf } from '../../src/discord/console-session.js';
import { openService, openTestDb, type TestDb } from '../helpers/db.js';
import { as, startBot, type Bot } from '../helpers/discord.js';

let db: TestDb;
let svc: ConfigService;
let bot: Bot;
const versions = async (key: string) => bindModels(db.conn).ConfigVersion.countDocuments({ key });

beforeAll(async () => {
  db = await openTestDb('discord_confirm');
  svc = await openService(db);
  // A short expiry so the test can watch it happen; the product default is 60 seconds.
  bot = await startBot(svc, { confirmTimeoutMs: 1500 });
  const admin = bot.session();
  await admin.run('/config set setting:MAX_BATCH_SIZE value:200');
  await admin.run('/config set setting:MAX_BATCH_SIZE value:300');
});
afterAll(async () => {
  await bot.close();
  await svc.close();
  await db.drop();
});

describe('rollback and reset confirmation', () => {
  it('shows current and new value with Confirm and Cancel, and Confirm writes a new version', async () => {
    const s = bot.session();
    const [defer, prompt] = await s.run(
      '/config rollback setting:MAX_BATCH_SIZE version:2 reason:"300 was too many"',
    );
    expect(defer?.kind).toBe('defer');
    expect(prompt?.embeds[0]?.title).toBe('Roll back MAX_BATCH_SIZE to version 2?');
    expect(prompt?.embeds[0]?.fields?.map((f) => f.value)).toEqual(['300 (v3)', '200']);
    expect(buttonsOf({ components: prompt?.components ?? [] }).map((b) => b.label)).toEqual([
      'Confirm',
      'Cancel',
    ]);
    expect(await versions('MAX_BATCH_SIZE')).toBe(3);

    const done = await s.press('confirm');
    expect(done.map((r) => r.kind)).toEqual(['deferUpdate', 'editReply']);
    expect(done[1]?.embeds[0]?.title).toBe('Rolled back MAX_BATCH_SIZE');
    expect(done[1]?.components).toEqual([]);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(200);
    const v4 = await bindModels(db.conn).ConfigVersion.findOne({ key: 'MAX_BATCH_SIZE', version: 4 }).lean();
    expect(v4).toMatchObject({ action: 'rollback', value: 200, restoredFrom: 2, reason: '300 was too many' });
  });

  it('Cancel changes nothing and removes the buttons', async () => {
    const s = bot.session();
    await s.run('/config reset setting:MAX_BATCH_SIZE');
    const [cancelled] = await s.press('Cancel');
    expect(cancelled?.kind).toBe('update');
    expect(cancelled?.embeds[0]?.title).toBe('Cancelled: reset of MAX_BATCH_SIZE');
    expect(cancelled?.components).toEqual([]);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(200);
    expect(await versions('MAX_BATCH_SIZE')).toBe(4);
  });

  it('refuses another admin pressing the buttons, and audits the attempt', async () => {
    const owner = bot.session();
    await owner.run('/config reset setting:MAX_BATCH_SIZE');
    const intruder = bot.session(as.otherAdmin());
    // The intruder presses the same message (as if it were visible to them).
    const prompt = owner.current();
    if (!prompt) throw new Error('no prompt');
    const [refusal] = await intruder.pressOn(prompt, 'Confirm');
    expect(refusal?.kind).toBe('reply');
    expect(refusal?.embeds[0]?.description).toMatch(
      /Only <@100000000000000001>, who asked for this reset, can confirm/,
    );
    expect(svc.get('MAX_BATCH_SIZE')).toBe(200);
    const denied = await bindModels(db.conn)
      .ConfigAudit.findOne({ status: 'denied', 'actor.id': as.otherAdmin().user.id })
      .lean();
    expect(denied).toMatchObject({ key: 'MAX_BATCH_SIZE', action: 'reset' });
    // The owner can still confirm.
    await owner.press('Confirm');
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
  });

  it('expires, says so in the message, and a late press changes nothing', async () => {
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

  it('refuses to confirm when the value changed since the preview', async () => {
    const s = bot.session();
    await s.run('/config reset setting:MAX_BATCH_SIZE');
    await svc.set('MAX_BATCH_SIZE', '600', { id: 'someone', tag: 'someone' });
    const [, result] = await s.press('Confirm');
    expect(result?.embeds[0]?.description).toMatch(/changed since this preview .*nothing was changed/);
    expect(svc.get('MAX_BATCH_SIZE')).toBe(600);
  });

  it('refuses a rollback to a version that does not exist, without a prompt', async () => {
    const [, reply] = await bot.session().run('/config rollback setting:MAX_BATCH_SIZE version:99');
    expect(reply?.embeds[0]?.description).toMatch(/has no version 99/);
    expect(reply?.components).toEqual([]);
  });
});
