import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutOwnServer, startOwnServer } from '../helpers/db.js';
import { startTestApi } from '../helpers/api.js';

let own: Awaited<ReturnType<typeof startOwnServer>>;
beforeAll(async () => {
  own = await startOwnServer();
});
afterAll(async () => {
  await own?.server?.cleanup();
});

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } };
}

describe('API writes with the database paused (SIGSTOP: the driver waits instead of failing)', () => {
  it('refuses an invalid value without the database, and answers a valid one 503 within DB_TIMEOUT_MS', async (ctx) => {
    const server = skipWithoutOwnServer(own, ctx, 'paused database test');
    // A deadline far longer than the test may wait: an answer that waited on the database could
    // only come after it, so answering at all shows where the time went (no clock is compared).
    const api = await startTestApi('paused_db', { uri: server.uri, vars: { DB_TIMEOUT_MS: '20000' } });
    const token = await api.token('write');
    const pid = server.pid;
    if (pid === undefined) throw new Error('the database server has no pid');
    const put = async (value: unknown, wait: number): Promise<Answer> => {
      const res = await api.call('/v1/config/MAX_BATCH_SIZE', {
        method: 'PUT',
        token,
        json: { value },
        signal: AbortSignal.timeout(wait),
      });
      return { status: res.status, body: (await res.json()) as Answer['body'] };
    };
    // Used once, so this process holds it (a token it has never seen is looked up, bounded too).
    expect((await api.call('/v1/config', { token })).status).toBe(200);
    process.kill(pid, 'SIGSTOP');
    try {
      const invalid = await put('12abc', 10_000);
      expect(invalid.status).toBe(400);
      expect(invalid.body.error?.code).toBe('INVALID_VALUE');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await api.stop();

    // With the bound the operator set, a valid write is answered 503 (not confirmed), not left hanging.
    const quick = await startTestApi('paused_db_quick', { uri: server.uri, vars: { DB_TIMEOUT_MS: '1500' } });
    const writer = await quick.token('write');
    expect((await quick.call('/v1/config', { token: writer })).status).toBe(200);
    process.kill(pid, 'SIGSTOP');
    try {
      const res = await quick.call('/v1/config/MAX_BATCH_SIZE', {
        method: 'PUT',
        token: writer,
        json: { value: 250 },
        signal: AbortSignal.timeout(15_000),
      });
      expect(res.status).toBe(503);
      // Either the write was sent and its deadline passed (it may yet be applied), or the process
      // had found the database out meanwhile (its write limit's count, its poll) and sent nothing.
      expect(((await res.json()) as Answer['body']).error).toEqual({
        code: 'UNAVAILABLE',
        message: expect.stringMatching(
          /did not answer within 1500 ms \(DB_TIMEOUT_MS\).*not confirmed|^Database unavailable, nothing was changed\./,
        ),
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
