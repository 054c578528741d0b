import { describe, expect, it, onTestFinished } from 'vitest';
import { ChangeFeed } from '../../src/changes/feed.js';
import { bindModels } from '../../src/storage/config-models.js';
import { createCommandContext } from '../../src/discord/context.js';
import { OfflineDiscord } from '../../src/offline/harness.js';
import { KillAlerts } from '../../src/discord/kill-alerts.js';
import { restNotifier } from '../../src/discord/notifier.js';
import { FlagStore } from '../../src/flags/flags.js';
import { FlagErrorRecords } from '../../src/storage/flag-errors.js';
import { actor, openService } from '../helpers/db.js';
import { APP_ID, HOME_GUILD } from '../helpers/discord.js';
import { freshService } from '../helpers/fresh.js';

const alice = actor();
const ALERTS = '940000000000000002';
const guarded = {
  name: 'new-search',
  description: 'The new search backend',
  type: 'release' as const,
  owner: 'search-team',
  enabled: true,
  environments: ['production'],
  errorThreshold: { errors: 5, windowMs: 60_000 },
};

async function started(svc: Awaited<ReturnType<typeof freshService>>['svc']): Promise<FlagStore> {
  const flags = new FlagStore(svc);
  await flags.load();
  return flags;
}

describe('the automatic kill', () => {
  it('switches a flag off as the system once its errors reach the threshold, and counts no further', async () => {
    const { db, svc } = await freshService('kill_threshold');
    const flags = await started(svc);
    await flags.create(guarded, alice);
    const first = await flags.errors.report('new-search', 3);
    expect(first).toMatchObject({ errors: 3, killed: false, version: 1 });
    const second = await flags.errors.report('new-search', 2);
    expect(second).toMatchObject({ errors: 5, killed: true, version: 2 });
    expect(flags.get('new-search')?.flag.enabled).toBe(false);
    expect(flags.set.isEnabled('new-search', { userId: 'u1' })).toBe(false);
    const third = await flags.errors.report('new-search');
    expect(third).toMatchObject({ killed: false, version: 2 });
    const v2 = await bindModels(db.conn).ConfigVersion.findOne({ key: 'flag:new-search', version: 2 }).lean();
    expect(v2).toMatchObject({ action: 'kill', actor: { id: 'system' } });
    expect(v2?.reason).toMatch(
      /^Automatic kill: 5 errors reported in the last \d+ s \(threshold 5 errors in 1 min\)$/,
    );
  });

  it('does not count errors from before the flag was turned back on', async () => {
    const { svc } = await freshService('kill_restart');
    const flags = await started(svc);
    await flags.create(guarded, alice);
    await flags.errors.report('new-search', 5);
    await flags.update('new-search', (f) => ({ ...f, enabled: true }), alice, 'fixed');
    const after = await flags.errors.report('new-search', 4);
    expect(after).toMatchObject({ errors: 4, killed: false, version: 3 });
  });

  it('refuses reports for an unknown flag and ignores flags without a threshold', async () => {
    const { svc } = await freshService('kill_unknown');
    const flags = await started(svc);
    await flags.create({ ...guarded, name: 'plain', errorThreshold: undefined }, alice);
    await expect(flags.errors.report('plane')).rejects.toMatchObject({
      code: 'UNKNOWN_KEY',
      message: expect.stringContaining('Did you mean plain?'),
    });
    expect(await flags.errors.report('plain', 100)).toMatchObject({
      killed: false,
      errors: null,
      threshold: null,
    });
  });

  it('deletes reports older than 24 hours as new ones arrive, and counts only what is kept', async () => {
    const { db, svc } = await freshService('kill_trim');
    const flags = await started(svc);
    await flags.create({ ...guarded, name: 'plain', errorThreshold: undefined }, alice);
    const records = new FlagErrorRecords(db.conn);
    const now = new Date();
    await flags.errors.report('plain', 3, new Date(now.getTime() - 48 * 3600_000));
    expect(await records.countSince('plain', new Date(0))).toBe(3);
    await flags.errors.report('plain', 2, now);
    await expect.poll(() => records.countSince('plain', new Date(0))).toBe(2);
  });

  it('posts one alert with a turn-on button however many bot processes hear of the kill', async () => {
    const { db, svc } = await freshService('kill_alert');
    const discord = new OfflineDiscord(
      new Map(),
      createCommandContext(svc, { allowedGuildIds: [HOME_GUILD], adminRoleIds: [], confirmTimeoutMs: 1000 }),
      APP_ID,
    );
    onTestFinished(() => discord.destroy());
    const notifier = restNotifier(discord.client.rest);
    const flags = await started(svc);
    const other = await openService(db);
    const otherFlags = await started(other);
    const feed = new ChangeFeed(other, { intervalMs: 50, followers: [otherFlags] });
    await feed.start();
    const alerts = [
      new KillAlerts(db.conn, flags, notifier, ALERTS, 'one'),
      new KillAlerts(db.conn, otherFlags, notifier, ALERTS, 'two'),
    ];
    for (const a of alerts) a.start();
    onTestFinished(async () => {
      feed.stop();
      for (const a of alerts) await a.stop();
      await other.close();
    });
    await flags.create(guarded, alice);
    await flags.errors.report('new-search', 5);
    await expect.poll(() => otherFlags.get('new-search')?.version, { timeout: 5000 }).toBe(2);
    for (const a of alerts) await a.stop();
    const posts = discord.calls.filter((c) => c.kind === 'channelMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.path).toBe(`/channels/${ALERTS}/messages`);
    expect(String(posts[0]?.body?.content)).toMatch(
      /new-search\*\* was switched off automatically \(version 2\)/,
    );
    expect(JSON.stringify(posts[0]?.body?.components)).toContain('"custom_id":"flag:turn-on:new-search:2"');
  });
});
