import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVOKED_WITHIN_MS } from '../../src/api/auth.js';
import { skipWithoutOwnServer, startOwnServer } from '../helpers/db.js';
import { startTestApi } from '../helpers/api.js';

let own: Awaited<ReturnType<typeof startOwnServer>>;
beforeAll(async () => {
  own = await startOwnServer();
});
afterAll(async () => {
  await own?.server?.cleanup();
});

describe('the API while the database is down', () => {
  it('keeps serving reads to tokens it checked before, answers 503 to others, and says so in /readyz', async (ctx) => {
    const server = skipWithoutOwnServer(own, ctx, 'API outage test');
    const api = await startTestApi('api_outage', { uri: server.uri, vars: { DB_TIMEOUT_MS: '500' } });
    const known = await api.token('read', { name: 'known' });
    const unseen = await api.token('write', { name: 'unseen' });
    expect((await api.call('/v1/config/MAX_BATCH_SIZE', { token: known })).status).toBe(200);

    await server.stop();
    await expect
      .poll(async () => ((await (await api.call('/readyz')).json()) as { database: string }).database, {
        timeout: 15_000,
      })
      .toBe('last-known-values');
    // Past the time a checked token is trusted without a lookup: the lookup now fails.
    await sleep(REVOKED_WITHIN_MS + 200);
    const read = await api.call('/v1/config/MAX_BATCH_SIZE', { token: known });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ key: 'MAX_BATCH_SIZE', value: 100 });

    const refused = await api.call('/v1/config/MAX_BATCH_SIZE', {
      method: 'PUT',
      token: unseen,
      json: { value: 5 },
    });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({
      error: { code: 'UNAVAILABLE', message: expect.stringMatching(/^Database unavailable/) as unknown },
    });
    await server.restart();
  });
});
