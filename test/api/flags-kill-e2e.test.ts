import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { KillAlerts } from '../../src/discord/kill-alerts.js';
import { restNotifier } from '../../src/discord/notifier.js';
import { startTestApi } from '../helpers/api.js';
import { displayed, startBot } from '../helpers/discord.js';

const ALERTS = '940000000000000009';

describe('the automatic kill, end to end', () => {
  it('switches off a flag given a threshold in Discord once an application reports errors over HTTP, and alerts', async () => {
    // Two processes over one database: an API serving applications, and a bot run from the console.
    const api = await startTestApi('flag_kill_e2e_api');
    const botProcess = await startTestApi('flag_kill_e2e_bot', { dbName: api.env.MONGODB_DB_NAME });
    const { runtime } = botProcess;
    const bot = await startBot(runtime.config, {}, runtime);
    const alerts = new KillAlerts(
      runtime.db.conn,
      runtime.flags,
      restNotifier(bot.discord.client.rest),
      ALERTS,
      runtime.instanceId,
    );
    alerts.start();
    onTestFinished(async () => {
      await alerts.stop();
      await bot.close();
    });

    const s = bot.session();
    await s.run('/flag create name:risky-search description:"The new search" type:release');
    await s.run('/flag on name:risky-search');
    const [, set] = await s.run('/flag threshold name:risky-search errors:3 window:1m');
    expect(displayed(set?.embeds[0]?.fields?.find((f) => f.name === 'Changes')?.value)).toBe(
      '• error threshold: none → 3 errors in 1 min',
    );
    // The API process follows the change log to the version with the threshold.
    await expect.poll(() => api.runtime.flags.get('risky-search')?.version, { timeout: 10_000 }).toBe(3);

    const app = await api.token('read', { name: 'search-service' });
    const report = (count: number) =>
      api.call('/v1/flags/risky-search/errors', { method: 'POST', token: app, json: { count } });
    expect(await (await report(2)).json()).toMatchObject({ errors: 2, killed: false, version: 3 });
    const killing = await report(1);
    expect(killing.status).toBe(200);
    expect(await killing.json()).toMatchObject({ errors: 3, killed: true, version: 4 });

    // The kill is a version by the system that reaches the bot, which posts the alert once.
    await expect.poll(() => runtime.flags.get('risky-search')?.version, { timeout: 10_000 }).toBe(4);
    expect(runtime.flags.get('risky-search')?.flag.enabled).toBe(false);
    const v4 = await bindModels(runtime.db.conn)
      .ConfigVersion.findOne({ key: 'flag:risky-search', version: 4 })
      .lean();
    expect(v4).toMatchObject({ action: 'kill', actor: { id: 'system' } });
    expect(v4?.reason).toMatch(
      /^Automatic kill: 3 errors reported in the last \d+ s \(threshold 3 errors in 1 min\)$/,
    );
    await expect
      .poll(() => bot.discord.calls.filter((c) => c.kind === 'channelMessage').length, { timeout: 10_000 })
      .toBe(1);
    const [post] = bot.discord.calls.filter((c) => c.kind === 'channelMessage');
    expect(post?.path).toBe(`/channels/${ALERTS}/messages`);
    expect(String(post?.body?.content)).toMatch(
      /risky-search\*\* was switched off automatically \(version 4\)/,
    );
    expect(JSON.stringify(post?.body?.components)).toContain('"custom_id":"flag:turn-on:risky-search:4"');

    const [, view] = await s.run('/flag view name:risky-search');
    expect(displayed(view?.embeds[0]?.fields?.find((f) => f.name === 'Enabled')?.value)).toBe(
      'no (killed: off for everyone)',
    );
  });
});
