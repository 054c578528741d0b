import { describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/tokens/tokens.js';
import { actor } from '../helpers/db.js';
import { startTestApi, type TestApi } from '../helpers/api.js';

const GUILD = '900000000000000001';
const OTHER_GUILD = '900000000000000002';

/** The token's id, as its text carries it (`cfgbot_<id>_<secret>`). */
const idOf = (token: string) => token.split('_')[1] ?? '';

async function bodyOf(res: Response): Promise<{ error: { code: string; message: string } }> {
  return (await res.json()) as { error: { code: string; message: string } };
}

/** Sends requests until one is not `status`; returns the statuses seen, stopping after `max`. */
async function until429(send: () => Promise<Response>, max: number): Promise<Response[]> {
  const seen: Response[] = [];
  while (seen.length < max) {
    const res = await send();
    seen.push(res);
    if (res.status === 429) break;
  }
  return seen;
}

describe('API authentication', () => {
  it('answers a missing, malformed, unknown, wrong or revoked token with the same 401 and nothing else', async () => {
    const api = await startTestApi('auth_401');
    const good = await api.token('read');
    const revoked = await api.token('read', { name: 'to-revoke' });
    await new TokenStore(api.runtime.config.conn).revoke('to-revoke', actor());
    const last = good.at(-1) === 'A' ? 'B' : 'A';
    const attempts: Record<string, Record<string, string>> = {
      missing: {},
      'not bearer': { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      malformed: { authorization: 'Bearer cfgbot_nothing' },
      'unknown id': { authorization: `Bearer cfgbot_0123456789_${good.slice(18)}` },
      'wrong secret': { authorization: `Bearer ${good.slice(0, -1)}${last}` },
      revoked: { authorization: `Bearer ${revoked}` },
    };
    const answers: string[] = [];
    for (const [what, headers] of Object.entries(attempts)) {
      const res = await api.call('/v1/config/MAX_BATCH_SIZE', { headers });
      expect(res.status, what).toBe(401);
      expect(res.headers.get('www-authenticate'), what).toBe('Bearer');
      answers.push(await res.text());
    }
    expect(new Set(answers).size).toBe(1);
    const body = JSON.parse(answers[0] ?? '') as unknown;
    expect(body).toEqual({
      error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/^A valid API token/) },
    });
    expect(answers[0]).not.toMatch(/MAX_BATCH_SIZE|to-revoke|revoked|0123456789/);
    // The same request with the good token is answered: the refusals were about the tokens.
    expect((await api.call('/v1/config/MAX_BATCH_SIZE', { token: good })).status).toBe(200);
  });

  it('refuses a read token on PUT, rollback and reset with 403, changing nothing', async () => {
    const api = await startTestApi('auth_403');
    const reader = await api.token('read');
    const writer = await api.token('write');
    const set = await api.call('/v1/config/MAX_BATCH_SIZE', {
      method: 'PUT',
      token: writer,
      json: { value: 250 },
    });
    expect(set.status).toBe(200);
    const history = async () => (await api.runtime.config.history('MAX_BATCH_SIZE')).map((v) => v.version);
    const before = await history();

    const refused = [
      api.call('/v1/config/MAX_BATCH_SIZE', { method: 'PUT', token: reader, json: { value: 300 } }),
      api.call('/v1/config/MAX_BATCH_SIZE/rollback', { method: 'POST', token: reader, json: { version: 1 } }),
      api.call('/v1/config/MAX_BATCH_SIZE/reset', { method: 'POST', token: reader, json: {} }),
    ];
    for (const res of await Promise.all(refused)) {
      expect(res.status).toBe(403);
      expect((await bodyOf(res)).error).toEqual({
        code: 'FORBIDDEN',
        message: expect.stringMatching(/can only read; changes need a write token/),
      });
    }
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(250);
    expect(await history()).toEqual(before);
    expect(
      await api.runtime.config.auditLog({ actorId: `token:${idOf(reader)}`, status: 'success' }),
    ).toEqual([]);
  });

  it('keeps an env-limited token to its environment: reads it by default, writes only there', async () => {
    const api = await startTestApi('auth_env_scope');
    const token = await api.token('write', { scope: 'env:staging' });
    const read = await api.call('/v1/config', { token });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ environment: 'staging', guild: null });

    for (const asked of ['?env=production', `?guild=${GUILD}`, `?env=staging&guild=${GUILD}`]) {
      const res = await api.call(`/v1/config${asked}`, { token });
      expect(res.status, asked).toBe(403);
      expect((await bodyOf(res)).error.message, asked).toMatch(
        /is limited to env:staging; it does not cover/,
      );
    }

    const own = await api.call('/v1/config/MAX_BATCH_SIZE', {
      method: 'PUT',
      token,
      json: { value: 40, scope: 'env:staging' },
    });
    expect(own.status).toBe(200);
    expect(api.runtime.config.get('MAX_BATCH_SIZE', { environment: 'staging' })).toBe(40);

    for (const scope of [undefined, 'global', 'env:production']) {
      const res = await api.call('/v1/config/MAX_BATCH_SIZE', {
        method: 'PUT',
        token,
        json: { value: 41, scope },
      });
      expect(res.status, String(scope)).toBe(403);
    }
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(100);
    expect(api.runtime.config.get('MAX_BATCH_SIZE', { environment: 'staging' })).toBe(40);
  });

  it('keeps a guild-limited token to its server: reads it by default, writes only its own override', async () => {
    const api = await startTestApi('auth_guild_scope');
    const token = await api.token('write', { scope: `guild:${GUILD}` });
    const read = await api.call('/v1/config', { token });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ guild: GUILD });
    expect((await api.call(`/v1/config?guild=${OTHER_GUILD}`, { token })).status).toBe(403);

    const own = await api.call('/v1/config/AI_CONFIDENCE_THRESHOLD', {
      method: 'PUT',
      token,
      json: { value: 0.9, scope: `guild:${GUILD}` },
    });
    expect(own.status).toBe(200);
    expect(api.runtime.config.get('AI_CONFIDENCE_THRESHOLD', { guildId: GUILD })).toBe(0.9);
    const seen = (await (await api.call('/v1/config/AI_CONFIDENCE_THRESHOLD', { token })).json()) as {
      value: unknown;
      layer: string;
    };
    expect(seen).toMatchObject({ value: 0.9, layer: `guild:${GUILD}` });

    for (const scope of [undefined, 'env:production', `guild:${OTHER_GUILD}`]) {
      const res = await api.call('/v1/config/AI_CONFIDENCE_THRESHOLD', {
        method: 'PUT',
        token,
        json: { value: 0.7, scope },
      });
      expect(res.status, String(scope)).toBe(403);
    }
    expect(api.runtime.config.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.85);
    expect(api.runtime.config.get('AI_CONFIDENCE_THRESHOLD', { guildId: OTHER_GUILD })).toBe(0.85);
  });

  it('answers 429 with Retry-After to an address past API_AUTH_FAILURES_PER_MIN bad tokens', async () => {
    const api = await startTestApi('auth_failures', { vars: { API_AUTH_FAILURES_PER_MIN: '3' } });
    const good = await api.token('read');
    const bad = () => api.call('/v1/config', { token: 'cfgbot_0123456789_' + 'x'.repeat(43) });
    // A minute window that rolls over meanwhile only allows more: at most twice the limit pass.
    const seen = await until429(bad, 7);
    expect(seen.slice(0, 3).map((r) => r.status)).toEqual([401, 401, 401]);
    const limited = seen.at(-1);
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited?.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((await bodyOf(limited as Response)).error.code).toBe('RATE_LIMITED');
    // Only failures are held back: a good token from the same address is answered (see
    // token-trust.test.ts), and so are public routes.
    expect((await api.call('/v1/config', { token: good })).status).toBe(200);
    expect((await api.call('/healthz')).status).toBe(200);
  });

  it('answers 429 with Retry-After to a token past API_RATE_LIMIT_PER_MIN, and not to another token', async () => {
    const api = await startTestApi('auth_token_rate', { vars: { API_RATE_LIMIT_PER_MIN: '3' } });
    const busy = await api.token('read');
    const other = await api.token('read');
    const seen = await until429(() => api.call('/v1/config/LOG_LEVEL', { token: busy }), 7);
    expect(seen.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    const limited = seen.at(-1) as Response;
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await bodyOf(limited)).error.message).toMatch(/is over its 3 requests a minute/);
    expect((await api.call('/v1/config/LOG_LEVEL', { token: other })).status).toBe(200);
  });

  it('serves /healthz, /readyz, /metrics and /v1/openapi.json without a token', async () => {
    const api: TestApi = await startTestApi('auth_public');
    for (const path of ['/healthz', '/readyz', '/metrics', '/v1/openapi.json']) {
      const res = await api.call(path);
      expect(res.status, path).toBe(200);
    }
    expect((await api.call('/v1/config')).status).toBe(401);
  });
});
