import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { REVOKED_WITHIN_MS } from '../../src/api/auth.js';
import { TokenStore } from '../../src/tokens/tokens.js';
import { actor, skipWithoutOwnServer, startOwnServer, uniqueDbName } from '../helpers/db.js';
import { startTestApi } from '../helpers/api.js';
import { openEvents } from '../helpers/sse.js';

const idOf = (token: string) => token.split('_')[1] ?? '';

describe('a revoked or expired token', () => {
  it('loses its open event streams on every process within 5 s, sensitive values included', async () => {
    const dbName = uniqueDbName('revoke_streams');
    const writer = await startTestApi('revoke_a', { dbName });
    const other = await startTestApi('revoke_b', { dbName });
    const token = await writer.token('read', { name: 'leaky', sensitive: true });
    const keeper = await writer.token('read', { name: 'keeper' });
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    const revokedStream = await openEvents(`${other.url}/v1/events`, auth(token));
    const keptStream = await openEvents(`${other.url}/v1/events`, auth(keeper));
    expect(revokedStream.status).toBe(200);

    const before = await writer.runtime.config.set('MAX_BATCH_SIZE', '300', actor());
    await revokedStream.next((e) => e.id === String(before.seq), 'the change before the revocation');

    await new TokenStore(writer.runtime.config.conn).revoke('leaky', actor());
    await revokedStream.ended(REVOKED_WITHIN_MS);
    const after = await writer.runtime.config.set('MAX_BATCH_SIZE', '400', actor());
    // The other token's stream carries on; the revoked one received nothing after its end.
    await keptStream.next((e) => e.id === String(after.seq), 'the change after the revocation');
    expect(revokedStream.events.some((e) => e.id === String(after.seq))).toBe(false);
    // And it cannot open another.
    expect((await openEvents(`${other.url}/v1/events`, auth(token))).status).toBe(401);
  });

  it('loses its open streams when it expires, and is refused from then on', async () => {
    const api = await startTestApi('expire_streams');
    const token = await api.token('read', { name: 'short' });
    const stream = await openEvents(`${api.url}/v1/events`, { authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    // Expiring in a moment (creation allows an hour at least): written as the store would.
    await api.runtime.config.conn
      .collection('api_tokens')
      .updateOne({ _id: idOf(token) as never }, { $set: { expiresAt: new Date(Date.now() + 500) } });
    // The stream ends at the expiry (a timer) or the next refresh (every second); the margin is for
    // a loaded machine, not part of the promise.
    await stream.ended(REVOKED_WITHIN_MS * 2);
    const res = await api.call('/v1/config', { token });
    expect(res.status).toBe(401);
  });

  it('can be created with an expiry, which is kept and shown', async () => {
    const api = await startTestApi('expire_create');
    const store = new TokenStore(api.runtime.config.conn);
    const { record } = await store.create(
      { name: 'ci', access: 'read', ttlMs: 2 * 3600_000, actor: actor() },
      api.env.ENVIRONMENTS,
    );
    expect(record.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 3600_000);
    expect((await store.list())[0]?.expiresAt).toEqual(record.expiresAt);
    await expect(
      store.create(
        { name: 'too-short', access: 'read', ttlMs: 60_000, actor: actor() },
        api.env.ENVIRONMENTS,
      ),
    ).rejects.toThrow(/1 hour at the earliest and 366 days at the latest/);
    expect((await store.list()).map((t) => t.name)).toEqual(['ci']);
  });
});

describe('bad tokens from one address', () => {
  it('are limited, but never make a valid token from that address wait', async () => {
    const api = await startTestApi('bad_tokens', { api: { failuresPerMinute: 5 } });
    const seen = await api.token('read', { name: 'seen' });
    expect((await api.call('/v1/config', { token: seen })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await api.call('/v1/config', { token: `cfgbot_0123456789_${'x'.repeat(43)}` })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const limited = await api.call('/v1/config');
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { message: string } }).error.message).toMatch(
      /valid token are still answered/,
    );
    // A token used before, and one created after the flood (never seen by this process), both pass.
    expect((await api.call('/v1/config', { token: seen })).status).toBe(200);
    const fresh = await api.token('read', { name: 'fresh' });
    expect((await api.call('/v1/config', { token: fresh })).status).toBe(200);
  });
});

describe('readiness and tokens through an outage at start', () => {
  let own: Awaited<ReturnType<typeof startOwnServer>>;
  beforeAll(async () => {
    own = await startOwnServer();
  });
  afterAll(async () => {
    await own?.server?.cleanup();
  });

  it('serves tokens from the last-known copy (hashes only), or says it is not ready and why', async (ctx) => {
    const server = skipWithoutOwnServer(own, ctx, 'token copy outage test');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-token-copy-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const dbName = uniqueDbName('token_copy');
    const vars = { DB_TIMEOUT_MS: '500' };
    const first = await startTestApi('token_copy_1', { uri: server.uri, dbName, dataDir, vars });
    const token = await first.token('read', { name: 'known' });
    expect((await first.call('/v1/config', { token })).status).toBe(200);
    const copy = path.join(dataDir, `api-tokens.${dbName}.json`);
    await expect
      .poll(() => existsSync(copy) && readFileSync(copy, 'utf8').includes(idOf(token)), { timeout: 10_000 })
      .toBe(true);
    expect(readFileSync(copy, 'utf8')).not.toContain(token.slice('cfgbot_0123456789_'.length));
    expect(statSync(copy).mode & 0o077).toBe(0);
    await first.stop();
    await server.stop();
    try {
      const second = await startTestApi('token_copy_2', { uri: server.uri, dbName, dataDir, vars });
      const ready = (await (await second.call('/readyz')).json()) as Record<string, unknown>;
      expect(ready).toMatchObject({ ready: true, tokens: 'last-known-copy', database: 'last-known-values' });
      expect((await second.call('/v1/config', { token })).status).toBe(200);
      await second.stop();

      rmSync(copy);
      const third = await startTestApi('token_copy_3', { uri: server.uri, dbName, dataDir, vars });
      const res = await third.call('/readyz');
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        ready: false,
        tokens: 'none',
        problems: [expect.stringMatching(/API tokens cannot be checked: the database is unreachable/)],
      });
      await third.stop();
    } finally {
      await server.restart();
    }
  });
});
