import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { actor, skipWithoutOwnServer, useOwnServer } from '../helpers/db.js';
import { captureLogs } from '../helpers/logs.js';
import { CHANNEL, startBot } from '../helpers/discord.js';
import { outcome, type Outcome } from '../helpers/outcome.js';

const f = useOwnServer('outage');
const dave = actor('444444444444444444', 'dave');

describe('database outage', () => {
  it(
    'serves last known values, fails writes fast and cleanly, and recovers without a restart',
    { timeout: 90_000 },
    async (ctx) => {
      const server = skipWithoutOwnServer(f, ctx, 'outage test');
      const { db, svc } = f;
      await svc.trail.begin();
      expect((await outcome(svc.set('MAX_BATCH_SIZE', '500', dave))).ok).toBe(true);
      const lastBefore = (await svc.trail.state()).headSeq;

      await server.stop();
      const logs = captureLogs();
      // Reads never throw and keep the last values.
      for (let i = 0; i < 100; i++) {
        expect(svc.get('MAX_BATCH_SIZE')).toBe(500);
        expect(svc.get('DAILY_EXPORT_TIME')).toBe('18:00');
      }
      const started = Date.now();
      const results = await Promise.all([
        outcome(svc.set('MAX_BATCH_SIZE', '600', dave)),
        outcome(svc.rollback('MAX_BATCH_SIZE', 1, dave)),
        outcome(svc.reset('MAX_BATCH_SIZE', dave)),
      ]);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeLessThan(5000);
      for (const r of results) {
        expect(r.ok).toBe(false);
        expect(!r.ok && r.error.code).toBe('UNAVAILABLE');
        expect(!r.ok && r.error.message).toMatch(/Database unavailable, nothing was changed/);
      }
      expect(svc.get('MAX_BATCH_SIZE')).toBe(500);
      expect(svc.stats().database).toBe('unavailable');

      // What an admin sees in Discord meanwhile: reads answer from memory, writes say nothing changed.
      const bot = await startBot(svc);
      const session = bot.session();
      const [view] = await session.run('/config view setting:MAX_BATCH_SIZE');
      expect(view?.embeds[0]?.fields?.find((f) => f.name === 'Value')?.value).toBe('500');
      const writeStarted = Date.now();
      const replies = await session.run('/config set setting:MAX_BATCH_SIZE value:650');
      expect(Date.now() - writeStarted).toBeLessThan(5000);
      expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
      expect(replies[1]?.embeds[0]?.description).toMatch(/Database unavailable, nothing was changed/);
      await bot.close();
      svc.get('LOG_LEVEL');
      const warnings = logs.lines.filter((l) => l.includes('serving configuration from memory'));
      expect(warnings).toHaveLength(1);
      logs.stop();

      const queued = svc.stats().auditQueued;
      expect(queued).toBe(4);

      await server.restart();
      // Rows queued during the outage are written once it ends (the connection says it is back),
      // oldest first, each joining the hash chain at the next place.
      await expect.poll(() => svc.stats().auditQueued, { timeout: 30_000 }).toBe(0);
      const late = await bindModels(db.conn)
        .ConfigAudit.find({ attemptedAt: { $exists: true } })
        .sort({ seq: 1 })
        .lean();
      // Right after the last row written before the outage, without gaps, in the order queued: the
      // service's three refused writes, then the Discord one made after them.
      expect(late.map((r) => r.seq)).toEqual(Array.from({ length: queued }, (_, i) => lastBefore + 1 + i));
      const actions = late.map((r) => r.action);
      expect(actions.slice(0, 3).sort()).toEqual(['reset', 'rollback', 'set']);
      expect(late.slice(3)).toMatchObject([{ action: 'set', status: 'failed', channelId: CHANNEL }]);
      expect(await svc.trail.verify()).toMatchObject({ intact: true, rowsChecked: lastBefore + queued });
      let after: Outcome | undefined;
      for (let i = 0; i < 60 && !after?.ok; i++) {
        after = await outcome(svc.set('MAX_BATCH_SIZE', '700', dave));
        if (!after.ok) await sleep(250);
      }
      expect(after).toMatchObject({ ok: true, value: 700, version: 3 });
      expect(svc.get('MAX_BATCH_SIZE')).toBe(700);

      // Nothing half-written: versions contiguous, current equals the newest, every version audited.
      const m = bindModels(db.conn);
      const versions = await m.ConfigVersion.find({ key: 'MAX_BATCH_SIZE' }).sort({ version: 1 }).lean();
      expect(versions.map((v) => [v.version, v.value])).toEqual([
        [1, 100],
        [2, 500],
        [3, 700],
      ]);
      expect(await m.SystemConfig.findOne({ key: 'MAX_BATCH_SIZE' }).lean()).toMatchObject({
        version: 3,
        value: 700,
      });
      for (const v of versions) {
        expect(
          await m.ConfigAudit.countDocuments({
            key: 'MAX_BATCH_SIZE',
            version: v.version,
            status: 'success',
          }),
        ).toBe(1);
      }
    },
  );
});
