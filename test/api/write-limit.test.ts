import { describe, expect, it } from 'vitest';
import { uniqueDbName } from '../helpers/db.js';
import { startTestApi, type TestApi } from '../helpers/api.js';

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

const put = (api: TestApi, token: string, value: number) =>
  api.call('/v1/config/MAX_BATCH_SIZE', { method: 'PUT', token, json: { value } });

describe('the write limit of an API token (API_WRITES_PER_MIN)', () => {
  it('lets exactly 5 of 20 parallel writes of one token through two API processes, and tells the rest when to retry', async () => {
    const dbName = uniqueDbName('api_write_limit');
    const vars = { API_WRITES_PER_MIN: '5' };
    const apis = [
      await startTestApi('api_write_limit_a', { dbName, vars }),
      await startTestApi('api_write_limit_b', { dbName, vars }),
    ];
    const [a] = apis as [TestApi, TestApi];
    const writer = await a.token('write');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => put(apis[i % 2] as TestApi, writer, 201 + i)),
    );
    const refused = answers.filter((r) => r.status === 429);
    // Those let through were written (200) or lost the race for the key's version (409).
    const through = answers.filter((r) => r.status !== 429);
    expect(through).toHaveLength(5);
    for (const res of through) expect([200, 409]).toContain(res.status);
    for (const res of refused) {
      const retry = Number(res.headers.get('retry-after'));
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
      const error = await errorOf(res);
      expect(error.code).toBe('RATE_LIMITED');
      expect(error.message).toMatch(
        /^Token \S+ made 5 writes in the last minute, and its limit is 5 \(API_WRITES_PER_MIN\)\. Nothing was changed; try again in \d+ s\.$/,
      );
      expect(error.message.endsWith(`try again in ${retry} s.`)).toBe(true);
    }
  });

  it('counts every write route, not reads, and each token apart', async () => {
    const api = await startTestApi('api_write_routes', { vars: { API_WRITES_PER_MIN: '4' } });
    const writer = await api.token('write');
    expect((await put(api, writer, 300)).status).toBe(200);
    const reset = await api.call('/v1/config/MAX_BATCH_SIZE/reset', {
      method: 'POST',
      token: writer,
      json: {},
    });
    expect(reset.status).toBe(200);
    const flag = { name: 'new-search', description: 'The new search', type: 'release', owner: 'search' };
    expect((await api.call('/v1/flags', { method: 'POST', token: writer, json: flag })).status).toBe(201);
    const patch = await api.call('/v1/flags/new-search', {
      method: 'PATCH',
      token: writer,
      json: { rollout: 10 },
    });
    expect(patch.status).toBe(200);
    // Reads do not count: the token still reads after its four writes.
    expect((await api.call('/v1/config/MAX_BATCH_SIZE', { token: writer })).status).toBe(200);
    const rollback = await api.call('/v1/config/MAX_BATCH_SIZE/rollback', {
      method: 'POST',
      token: writer,
      json: { version: 2 },
    });
    expect(rollback.status).toBe(429);
    expect(rollback.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(100);
    // Another token has a limit of its own.
    expect((await put(api, await api.token('write'), 400)).status).toBe(200);
  });
});
