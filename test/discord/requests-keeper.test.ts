import { describe, expect, it } from 'vitest';
import { openService } from '../helpers/db.js';
import { HIGH, labels, requestBot, text } from './requests-bot.js';

const carol = { id: '333333333333333333', tag: 'carol' };

describe('the approval channel over time', () => {
  it('clears the approvals of a request whose key moved by a direct write, and the post says so', async () => {
    const { db, svc, approver, post, request } = await requestBot('rq_moved', { high: 2 });
    const id = await request('0.92');
    await approver.pressOn(await post(), 'Approve');
    expect(text(await post())).toContain('Approvals: 1 of 2');
    // Another process, without approvals, changes the key directly; this one hears of it.
    const direct = await openService(db);
    await direct.set(HIGH, '0.88', carol);
    await direct.close();
    await svc.refresh();
    await expect
      .poll(async () => text(await post()), { timeout: 5000 })
      .toContain(`${HIGH} changed since the request (v1 → v2): 1 approval(s) cleared: review it again.`);
    const shown = await post();
    expect(text(shown)).toContain('Approvals: 0 of 2');
    expect(text(shown)).toContain('`0.88` → `0.92` (against v2)');
    expect(labels(shown)).toEqual(['Approve', 'Reject', 'Details']);
    expect((await svc.requests.get(id)).approvals).toEqual([]);
  });

  it('closes an expired request and edits its post, without buttons', async () => {
    const { svc, keeper, post, request } = await requestBot('rq_expire', { high: 1 }, 60_000);
    const id = await request('0.9');
    expect(labels(await post())).toHaveLength(3);
    expect(await svc.requests.expire(new Date(Date.now() + 120_000))).toHaveLength(1);
    await keeper.settled();
    const shown = await post();
    expect(text(shown)).toContain('**Expired**');
    expect(text(shown)).toContain('expired unapproved');
    expect(labels(shown)).toEqual([]);
    expect((await svc.requests.get(id)).status).toBe('expired');
    expect(svc.get(HIGH)).toBe(0.85);
  });

  it('brings a post up to date on its next pass when another process, which shows nothing, took the step', async () => {
    const { db, svc, keeper, post, request } = await requestBot('rq_behind', { high: 1 }, 60_000);
    const id = await request('0.9');
    await post();
    const api = await openService(db, { approvals: { high: 1 } });
    await api.requests.withdraw(id, { id: '100000000000000001', tag: 'admin' });
    await api.close();
    expect(labels(await post())).toHaveLength(3);
    await keeper.tick();
    expect(text(await post())).toContain('**Withdrawn** by the requester.');
    expect(labels(await post())).toEqual([]);
    expect((await svc.requests.get(id)).post?.shown).toBe(2);
  });
});
