import { describe, expect, it } from 'vitest';
import { as, useBot } from '../helpers/discord.js';

const f = useBot('rate_limit', { writesPerMinute: 3 });

describe('per-user write rate limit', () => {
  it('refuses writes past the limit with a clear reply and a denied audit row; other users are unaffected', async () => {
    const admin = f.bot.session(as.admin());
    for (const v of ['101', '102', 'oops']) await admin.run(`/config set setting:MAX_BATCH_SIZE value:${v}`);
    const [, refused] = await admin.run('/config set setting:MAX_BATCH_SIZE value:104');
    expect(refused?.embeds[0]?.title).toBe('Slow down');
    expect(refused?.embeds[0]?.description).toMatch(
      /you made 3 in the last minute and the limit is 3\. Nothing was changed/,
    );
    expect(f.svc.get('MAX_BATCH_SIZE')).toBe(102);
    const [, rollback] = await admin.run('/config rollback setting:MAX_BATCH_SIZE version:1');
    expect(rollback?.embeds[0]?.title).toBe('Slow down');
    const denied = await f.svc.auditLog({ status: 'denied', actorId: as.admin().user.id });
    expect(denied.map((d) => d.action).sort()).toEqual(['rollback', 'set']);
    expect(denied[0]?.error).toMatch(/rate limited: 3 writes in 60 s \(limit 3\)/);

    const [, other] = await f.bot.session(as.roleAdmin()).run('/config set setting:MAX_BATCH_SIZE value:105');
    expect(other?.embeds[0]?.title).toBe('Updated MAX_BATCH_SIZE');
  });
});
