import { describe, expect, it } from 'vitest';
import { MAX_CLIENTS_PER_TOKEN } from '../../src/api/routes/instances.js';
import { startTestApi, type TestApi } from '../helpers/api.js';

const report = (api: TestApi, token: string, json: unknown) =>
  api.call('/v1/instances/report', { method: 'POST', token, json });

const listed = async (api: TestApi, token: string) =>
  (
    (await (await api.call('/v1/instances', { token })).json()) as {
      instances: { id: string; applied: number; host: string | null }[];
    }
  ).instances.filter((i) => i.id.startsWith('client:'));

describe('instance reports are checked', () => {
  it('refuses a position beyond the change log, and records nothing', async () => {
    const api = await startTestApi('reports_head');
    const token = await api.token('read');
    const res = await report(api, token, { id: 'w1', applied: 999_999_999 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^applied 999999999 is beyond the change log, whose newest position is \d+\. Nothing was recorded\.$/,
    );
    expect(await listed(api, token)).toEqual([]);
    expect((await report(api, token, { id: 'w1', applied: api.runtime.feed.position })).status).toBe(204);
  });

  it('refuses evaluation counts no process could make in the time a report covers', async () => {
    const api = await startTestApi('reports_counts');
    const token = await api.token('read');
    await api.runtime.flags.create(
      { name: 'checkout', description: 'x', type: 'release', owner: 'team' },
      { id: '1', tag: 'alice' },
    );
    const huge = { id: 'w2', applied: 1, evaluations: { checkout: { rollout_in: 1_000_000_000 } } };
    const res = await report(api, token, huge);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /1000000000 evaluations of flag checkout is more than one process can make in the 60 s this report covers/,
    );
    expect(await listed(api, token)).toEqual([]);
    expect((await api.runtime.flags.usage.last24h()).get('checkout')).toBeUndefined();
    // A plausible count passes.
    const fine = { id: 'w2', applied: 1, evaluations: { checkout: { rollout_in: 1200 } } };
    expect((await report(api, token, fine)).status).toBe(204);
  });

  it('records the address a report came from, not the host it claims', async () => {
    const api = await startTestApi('reports_host');
    const token = await api.token('read');
    expect((await report(api, token, { id: 'w3', applied: 1, host: 'prod-bot-1' })).status).toBe(204);
    const [row] = await listed(api, token);
    expect(row?.host).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
  });

  it(`keeps one token to ${MAX_CLIENTS_PER_TOKEN} live client instances`, async () => {
    const api = await startTestApi('reports_many');
    const token = await api.token('read');
    const coll = api.runtime.config.conn.collection('config_instances');
    const id = token.split('_')[1] ?? '';
    const now = new Date();
    await coll.insertMany(
      Array.from({ length: MAX_CLIENTS_PER_TOKEN }, (_, i) => ({
        _id: `client:${id}:w-${i}` as never,
        kind: 'client',
        applied: 0,
        recent: [],
        startedAt: now,
        lastSeen: now,
      })),
    );
    const res = await report(api, token, { id: 'one-more', applied: 1 });
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_INSTANCES');
    // An instance it has already reports on.
    expect((await report(api, token, { id: 'w-7', applied: 1 })).status).toBe(204);
  });
});
