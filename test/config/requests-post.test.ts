import { describe, expect, it } from 'vitest';
import { actor, openService } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';

const alice = actor('111111111111111111', 'alice');

describe('the post of a change request', () => {
  it('is claimed by exactly one of many concurrent callers across processes, and only once', async () => {
    const { db, svc } = await freshService('req_claim', { approvals: { high: 1 } });
    const err = (await svc.set('AI_CONFIDENCE_THRESHOLD', '0.9', alice).catch((e: unknown) => e)) as {
      context: { request: string };
    };
    const id = err.context.request;
    const other = await openService(db, { approvals: { high: 1 } });
    try {
      const wins = await Promise.all(
        [svc, other, svc, other, svc, other].map((s) => s.requests.claimPost(id, '960000000000000001')),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect((await svc.requests.get(id)).post).toMatchObject({ messageId: '', attempt: 1 });
      await svc.requests.posted(id, { channelId: '960000000000000001', messageId: '42', shown: 1 });
      expect(await other.requests.claimPost(id, '960000000000000001', new Date(Date.now() + 3_600_000))).toBe(
        false,
      );
    } finally {
      await other.close();
    }
  });

  it('is taken over when the process that claimed it did not post within a minute', async () => {
    const { svc } = await freshService('req_claim_stale', { approvals: { high: 1 } });
    const err = (await svc.set('AI_CONFIDENCE_THRESHOLD', '0.9', alice).catch((e: unknown) => e)) as {
      context: { request: string };
    };
    const id = err.context.request;
    expect(await svc.requests.claimPost(id, '1')).toBe(true);
    expect(await svc.requests.claimPost(id, '1', new Date(Date.now() + 10_000))).toBe(false);
    expect(await svc.requests.claimPost(id, '1', new Date(Date.now() + 120_000))).toBe(true);
    expect((await svc.requests.get(id)).post).toMatchObject({ attempt: 2 });
  });

  it('records how much of the log the post shows, never moving back', async () => {
    const { svc } = await freshService('req_shown', { approvals: { high: 1 } });
    const err = (await svc.set('AI_CONFIDENCE_THRESHOLD', '0.9', alice).catch((e: unknown) => e)) as {
      context: { request: string };
    };
    const id = err.context.request;
    await svc.requests.posted(id, { channelId: '1', messageId: '2', shown: 1 });
    await svc.requests.markShown(id, 3);
    await svc.requests.markShown(id, 2);
    expect((await svc.requests.get(id)).post).toMatchObject({ messageId: '2', shown: 3 });
  });
});
