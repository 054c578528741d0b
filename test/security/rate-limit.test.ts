import { describe, expect, it } from 'vitest';
import { as, startBot } from '../helpers/discord.js';
import { freshService } from '../helpers/fresh.js';

/** A bot of the test's own, with small limits, so tests depend on no other test's attempts. */
async function limitedBot(limits: { changesPerMinute: number; attemptsPerMinute: number }) {
  const { svc } = await freshService('rate_limit');
  const bot = await startBot(svc, limits);
  return { svc, bot };
}

describe('per-user write rate limit', () => {
  it('counts committed changes only: typos and refusals do not use up the limit', async () => {
    const { svc, bot } = await limitedBot({ changesPerMinute: 3, attemptsPerMinute: 20 });
    const admin = bot.session(as.admin());
    for (const v of ['oops', '0', '5000', '101', 'nope', '102', '102'])
      await admin.run(`/config set setting:MAX_BATCH_SIZE value:${v}`);
    const [, third] = await admin.run('/config set setting:MAX_BATCH_SIZE value:103');
    expect(third?.embeds[0]?.title).toBe('Updated MAX_BATCH_SIZE');
    const [, refused] = await admin.run('/config set setting:MAX_BATCH_SIZE value:104');
    expect(refused?.embeds[0]?.title).toBe('Slow down');
    expect(refused?.embeds[0]?.description).toMatch(
      /^You made 3 changes in the last minute, and the limit is 3\. Nothing was changed; try again in \d+ s\.$/,
    );
    expect(svc.get('MAX_BATCH_SIZE')).toBe(103);
    await bot.close();
  });

  it('refuses a rollback past the limit too, audits each refusal as denied, and leaves other users alone', async () => {
    const { svc, bot } = await limitedBot({ changesPerMinute: 2, attemptsPerMinute: 20 });
    const admin = bot.session(as.admin());
    for (const v of ['101', '102']) await admin.run(`/config set setting:MAX_BATCH_SIZE value:${v}`);
    const [, rollback] = await admin.run('/config rollback setting:MAX_BATCH_SIZE version:1');
    expect(rollback?.embeds[0]?.title).toBe('Slow down');
    const denied = await svc.auditLog({ status: 'denied', actorId: as.admin().user.id });
    expect(denied.map((d) => [d.action, d.key])).toEqual([['rollback', 'MAX_BATCH_SIZE']]);
    expect(denied[0]?.error).toMatch(/rate limited: 2 in 60 s \(limit 2\)/);
    const [, other] = await bot.session(as.roleAdmin()).run('/config set setting:MAX_BATCH_SIZE value:105');
    expect(other?.embeds[0]?.title).toBe('Updated MAX_BATCH_SIZE');
    await bot.close();
  });

  it('stops a flood of attempts at the higher attempts limit, saying refused ones count', async () => {
    const { bot } = await limitedBot({ changesPerMinute: 10, attemptsPerMinute: 4 });
    const admin = bot.session(as.admin());
    for (let i = 0; i < 4; i++) await admin.run(`/config set setting:MAX_BATCH_SIZE value:bad${i}`);
    const [, refused] = await admin.run('/config set setting:MAX_BATCH_SIZE value:200');
    expect(refused?.embeds[0]?.title).toBe('Slow down');
    expect(refused?.embeds[0]?.description).toMatch(
      /^Too many attempts: 4 in the last minute \(refused ones count too\), and the limit is 4\. Nothing was changed/,
    );
    await bot.close();
  });
  it('lets exactly the limit of parallel sets by one admin through, and typos give their change back', async () => {
    const { svc, bot } = await limitedBot({ changesPerMinute: 3, attemptsPerMinute: 50 });
    const admin = bot.session(as.admin());
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => admin.run(`/config set setting:MAX_BATCH_SIZE value:${201 + i}`)),
    );
    // Replies of parallel runs interleave in the harness; the audit says what became of each.
    const audited = await svc.auditLog({ actorId: as.admin().user.id });
    expect(audited.filter((a) => a.status === 'success')).toHaveLength(3);
    const denied = audited.filter((a) => a.status === 'denied');
    expect(denied).toHaveLength(7);
    for (const d of denied) expect(d.error).toMatch(/rate limited: 3 in 60 s \(limit 3\)/);
    expect((await svc.history('MAX_BATCH_SIZE')).length).toBe(4);
    // A refused attempt made no change: the limit still counts the three.
    await admin.run('/config set setting:MAX_BATCH_SIZE value:oops');
    const [, refused] = await admin.run('/config set setting:MAX_BATCH_SIZE value:300');
    expect(refused?.embeds[0]?.description).toMatch(
      /^You made 3 changes in the last minute, and the limit is 3\./,
    );
    await bot.close();
  });
});
