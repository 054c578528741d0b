import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { registry } from '../../src/config/registry.js';
import { startTestApi, type TestApi } from '../helpers/api.js';

const GUILD = '900000000000000001';
const HOOK = 'https://hooks.example.com/secret-path-123';

type Json = Record<string, unknown>;
const json = async (res: Response) => (await res.json()) as Json;
const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;
const idOf = (token: string) => token.split('_')[1] ?? '';

const put = (api: TestApi, token: string, key: string, body: Json) =>
  api.call(`/v1/config/${key}`, { method: 'PUT', token, json: body });
const post = (api: TestApi, token: string, pathname: string, body: Json) =>
  api.call(pathname, { method: 'POST', token, json: body });

/** A stack trace line or a source path: nothing an answer may carry. */
const LEAK = /\n\s+at |\bat .*\(|\/src\/|\.ts:\d|node_modules/;

describe('GET /v1/config', () => {
  it('lists every key with its value, version and layer, and the change-log position', async () => {
    const api = await startTestApi('routes_snapshot');
    const token = await api.token('read');
    const body = await json(await api.call('/v1/config', { token }));
    expect(body).toMatchObject({ seq: api.runtime.feed.position, environment: 'production', guild: null });
    expect(typeof body.seq).toBe('number');
    const values = body.values as Record<string, Json>;
    expect(Object.keys(values).sort()).toEqual([...registry.keys()].sort());
    // Every key is seeded with its default as version 1 of the global layer.
    expect(values.MAX_BATCH_SIZE).toEqual({ value: 100, version: 1, layer: 'global', sensitive: false });
  });

  it('reads another environment after an override set through the API, and a server’s layer', async () => {
    const api = await startTestApi('routes_layers');
    const writer = await api.token('write');
    expect((await put(api, writer, 'MAX_BATCH_SIZE', { value: 250, scope: 'env:staging' })).status).toBe(200);
    expect(
      (await put(api, writer, 'AI_CONFIDENCE_THRESHOLD', { value: 0.9, scope: `guild:${GUILD}` })).status,
    ).toBe(200);

    const staging = await json(await api.call('/v1/config?env=staging', { token: writer }));
    expect(staging.environment).toBe('staging');
    expect((staging.values as Record<string, Json>).MAX_BATCH_SIZE).toMatchObject({
      value: 250,
      version: 1,
      layer: 'env:staging',
    });
    const production = await json(await api.call('/v1/config', { token: writer }));
    expect((production.values as Record<string, Json>).MAX_BATCH_SIZE).toMatchObject({ value: 100 });

    const guild = await json(await api.call(`/v1/config?guild=${GUILD}`, { token: writer }));
    expect(guild.guild).toBe(GUILD);
    expect((guild.values as Record<string, Json>).AI_CONFIDENCE_THRESHOLD).toMatchObject({
      value: 0.9,
      layer: `guild:${GUILD}`,
    });
    expect((production.values as Record<string, Json>).AI_CONFIDENCE_THRESHOLD).toMatchObject({
      value: 0.85,
    });

    const unknownEnv = await api.call('/v1/config?env=qa', { token: writer });
    expect(unknownEnv.status).toBe(400);
    expect((await errorOf(unknownEnv)).message).toMatch(/Unknown environment qa/);
  });
});

describe('GET /v1/config/:key', () => {
  it('answers one key, any case, with its description and the layers it resolves through', async () => {
    const api = await startTestApi('routes_one');
    const writer = await api.token('write');
    await put(api, writer, 'MAX_BATCH_SIZE', { value: 300 });
    await put(api, writer, 'MAX_BATCH_SIZE', { value: 40, scope: 'env:production' });
    const res = await api.call('/v1/config/max_batch_size', { token: writer });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({
      key: 'MAX_BATCH_SIZE',
      value: 40,
      layer: 'env:production',
      description: registry.get('MAX_BATCH_SIZE')?.description,
      type: expect.any(String),
      category: 'export',
      requiresRestart: false,
      updatedBy: { id: `token:${idOf(writer)}`, tag: expect.any(String) },
    });
    const layers = body.layers as Json[];
    expect(layers.map((l) => [l.scope, l.supplies])).toEqual(
      expect.arrayContaining([
        ['env:production', true],
        ['global', false],
      ]),
    );
    expect(layers.findIndex((l) => l.scope === 'env:production')).toBeLessThan(
      layers.findIndex((l) => l.scope === 'global'),
    );
  });

  it('answers an unknown key with 404 and the text Discord shows', async () => {
    const api = await startTestApi('routes_unknown');
    const token = await api.token('read');
    const res = await api.call('/v1/config/NO_SUCH_KEY', { token });
    expect(res.status).toBe(404);
    const error = await errorOf(res);
    expect(error.code).toBe('UNKNOWN_KEY');
    expect(error.message).toMatch(/^Unknown setting NO_SUCH_KEY\./);
  });
});

describe('GET /v1/config/:key/history', () => {
  it('pages through versions with limit, before and nextBefore', async () => {
    const api = await startTestApi('routes_history');
    const writer = await api.token('write');
    for (const v of [101, 102, 103, 104])
      expect((await put(api, writer, 'MAX_BATCH_SIZE', { value: v })).status).toBe(200);
    const page = async (query: string) =>
      json(await api.call(`/v1/config/MAX_BATCH_SIZE/history?${query}`, { token: writer }));

    const first = await page('limit=2');
    expect(first).toMatchObject({ key: 'MAX_BATCH_SIZE', scope: 'global', nextBefore: 4 });
    expect((first.versions as Json[]).map((v) => [v.version, v.value])).toEqual([
      [5, 104],
      [4, 103],
    ]);
    const second = await page('limit=2&before=4');
    expect((second.versions as Json[]).map((v) => v.version)).toEqual([3, 2]);
    expect(second.nextBefore).toBe(2);
    const last = await page('limit=2&before=2');
    expect((last.versions as Json[]).map((v) => [v.version, v.action])).toEqual([[1, 'init']]);
    expect(last.nextBefore).toBeNull();
    expect((first.versions as Json[])[0]).toMatchObject({
      action: 'set',
      actor: { id: `token:${idOf(writer)}` },
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('refuses a bad limit with 400 naming the field', async () => {
    const api = await startTestApi('routes_history_bad');
    const token = await api.token('read');
    for (const limit of ['0', '101', 'ten']) {
      const res = await api.call(`/v1/config/MAX_BATCH_SIZE/history?limit=${limit}`, { token });
      expect(res.status, limit).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe('VALIDATION');
      expect(error.message, limit).toMatch(/querystring\.limit/);
    }
  });
});

describe('PUT /v1/config/:key', () => {
  it('commits a good value as the next version, audited as the token from channel api', async () => {
    const api = await startTestApi('routes_put');
    const writer = await api.token('write', { name: 'ci-deploy' });
    const res = await put(api, writer, 'MAX_BATCH_SIZE', { value: 200, reason: 'bigger batches' });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual({
      key: 'MAX_BATCH_SIZE',
      scope: 'global',
      status: 'committed',
      version: 2,
      value: 200,
      warnings: [],
      seq: expect.any(Number),
    });
    expect(body.seq).toBeGreaterThan(0);
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(200);
    const [row] = await api.runtime.config.auditLog({ key: 'MAX_BATCH_SIZE', action: 'set' });
    expect(row).toMatchObject({
      status: 'success',
      newValue: 200,
      version: 2,
      actor: { id: `token:${idOf(writer)}`, tag: expect.stringContaining('ci-deploy') },
      channelId: 'api',
      reason: 'bigger batches',
    });
  });

  it('answers the same value again with 200 unchanged, and writes no version', async () => {
    const api = await startTestApi('routes_unchanged');
    const writer = await api.token('write');
    await put(api, writer, 'MAX_BATCH_SIZE', { value: 200 });
    const res = await put(api, writer, 'MAX_BATCH_SIZE', { value: 200 });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: 'unchanged', version: 2, value: 200, seq: null });
    expect((await api.runtime.config.history('MAX_BATCH_SIZE')).map((v) => v.version)).toEqual([2, 1]);
  });

  it('answers an unchanged global write with the global value, not an override’s', async () => {
    const api = await startTestApi('routes_unchanged_layer');
    const writer = await api.token('write');
    await put(api, writer, 'MAX_BATCH_SIZE', { value: 200 });
    await put(api, writer, 'MAX_BATCH_SIZE', { value: 40, scope: 'env:production' });
    const res = await put(api, writer, 'MAX_BATCH_SIZE', { value: 200 });
    expect(await json(res)).toMatchObject({ scope: 'global', status: 'unchanged', version: 2, value: 200 });
  });

  it('refuses an invalid value with 400 INVALID_VALUE and changes nothing', async () => {
    const api = await startTestApi('routes_invalid');
    const writer = await api.token('write');
    await put(api, writer, 'MAX_BATCH_SIZE', { value: 200 });
    for (const value of [5000, 'lots', 0]) {
      const res = await put(api, writer, 'MAX_BATCH_SIZE', { value });
      expect(res.status, String(value)).toBe(400);
      expect((await errorOf(res)).code).toBe('INVALID_VALUE');
    }
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(200);
    expect((await api.runtime.config.history('MAX_BATCH_SIZE')).map((v) => v.version)).toEqual([2, 1]);
  });

  it('refuses a body without a value (VALIDATION) and malformed JSON (400), changing nothing', async () => {
    const api = await startTestApi('routes_bad_body');
    const writer = await api.token('write');
    const missing = await put(api, writer, 'MAX_BATCH_SIZE', { reason: 'forgot the value' });
    expect(missing.status).toBe(400);
    const error = await errorOf(missing);
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toMatch(/body\.value/);

    const malformed = await api.call('/v1/config/MAX_BATCH_SIZE', {
      method: 'PUT',
      token: writer,
      headers: { 'content-type': 'application/json' },
      body: '{"value": 200,',
    });
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).code).toBe('BAD_REQUEST');
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(100);
    expect(await api.runtime.config.history('MAX_BATCH_SIZE')).toHaveLength(1);
  });

  it('refuses scope text that is not a scope, or a scope the key does not allow, with 400', async () => {
    const api = await startTestApi('routes_bad_scope');
    const writer = await api.token('write');
    for (const [key, scope] of [
      ['MAX_BATCH_SIZE', 'everywhere'],
      ['MAX_BATCH_SIZE', 'env:stagin'],
      ['MAX_BATCH_SIZE', 'guild:123'],
      ['LOG_LEVEL', `guild:${GUILD}`],
    ] as const) {
      const res = await put(api, writer, key, { value: key === 'LOG_LEVEL' ? 'debug' : 7, scope });
      expect(res.status, scope).toBe(400);
      expect((await errorOf(res)).code, scope).toBe('INVALID_VALUE');
    }
    expect(
      (await errorOf(await put(api, writer, 'MAX_BATCH_SIZE', { value: 7, scope: 'env:stagin' }))).message,
    ).toMatch(/Did you mean env:staging\?/);
    expect(api.runtime.config.overrideScopes('MAX_BATCH_SIZE')).toEqual([]);
    expect(api.runtime.config.get('LOG_LEVEL')).toBe('info');
  });
});

describe('POST rollback and reset', () => {
  it('rolls back to a version as a new one, and answers a missing version with 404 VERSION_NOT_FOUND', async () => {
    const api = await startTestApi('routes_rollback');
    const writer = await api.token('write');
    await put(api, writer, 'MAX_BATCH_SIZE', { value: 200 });
    await put(api, writer, 'MAX_BATCH_SIZE', { value: 300 });
    const res = await post(api, writer, '/v1/config/MAX_BATCH_SIZE/rollback', { version: 2, reason: 'undo' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: 'committed', version: 4, value: 200 });
    const [newest] = await api.runtime.config.history('MAX_BATCH_SIZE');
    expect(newest).toMatchObject({ version: 4, action: 'rollback', restoredFrom: 2 });

    const missing = await post(api, writer, '/v1/config/MAX_BATCH_SIZE/rollback', { version: 99 });
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('VERSION_NOT_FOUND');
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(200);
  });

  it('resets the global value to the default, and removes an env override (unset)', async () => {
    const api = await startTestApi('routes_reset');
    const writer = await api.token('write');
    await put(api, writer, 'MAX_BATCH_SIZE', { value: 200 });
    await put(api, writer, 'MAX_BATCH_SIZE', { value: 50, scope: 'env:staging' });

    const global = await post(api, writer, '/v1/config/MAX_BATCH_SIZE/reset', {});
    expect(global.status).toBe(200);
    expect(await json(global)).toMatchObject({
      scope: 'global',
      status: 'committed',
      version: 3,
      value: 100,
    });
    expect(api.runtime.config.get('MAX_BATCH_SIZE', { environment: 'staging' })).toBe(50);

    const override = await post(api, writer, '/v1/config/MAX_BATCH_SIZE/reset', { scope: 'env:staging' });
    expect(override.status).toBe(200);
    expect(await json(override)).toMatchObject({
      scope: 'env:staging',
      status: 'committed',
      version: 2,
      value: 100,
    });
    expect(api.runtime.config.get('MAX_BATCH_SIZE', { environment: 'staging' })).toBe(100);
    const history = await json(
      await api.call('/v1/config/MAX_BATCH_SIZE/history?scope=env:staging', { token: writer }),
    );
    expect((history.versions as Json[]).map((v) => [v.version, v.action])).toEqual([
      [2, 'unset'],
      [1, 'set'],
    ]);
    const staging = await json(await api.call('/v1/config/MAX_BATCH_SIZE?env=staging', { token: writer }));
    expect(staging.layer).not.toBe('env:staging');

    const bad = await post(api, writer, '/v1/config/MAX_BATCH_SIZE/reset', { scope: 'env:nowhere' });
    expect(bad.status).toBe(400);
  });
});

describe('sensitive values', () => {
  it('are masked for a token without sensitive, and in clear for one with it, in every answer', async () => {
    const api = await startTestApi('routes_sensitive', {
      vars: { CONFIG_ENCRYPTION_KEYS: randomBytes(32).toString('base64') },
    });
    const plainWriter = await api.token('write');
    const reader = await api.token('read');
    const trusted = await api.token('read', { sensitive: true });
    const trustedWriter = await api.token('write', { sensitive: true });

    const masked = await put(api, plainWriter, 'EXPORT_WEBHOOK_URL', { value: HOOK });
    expect(masked.status).toBe(200);
    const maskedText = await masked.text();
    expect(maskedText).not.toContain('secret-path-123');
    expect(JSON.parse(maskedText)).toMatchObject({ status: 'committed', value: null, masked: true });
    expect(api.runtime.config.get('EXPORT_WEBHOOK_URL')).toBe(HOOK);

    const other = `${HOOK}-2`;
    const clear = await json(await put(api, trustedWriter, 'EXPORT_WEBHOOK_URL', { value: other }));
    expect(clear).toMatchObject({ status: 'committed', value: other });
    expect(clear).not.toHaveProperty('masked');

    const snapshotHidden = await api.call('/v1/config', { token: reader });
    const oneHidden = await api.call('/v1/config/EXPORT_WEBHOOK_URL', { token: reader });
    const historyHidden = await api.call('/v1/config/EXPORT_WEBHOOK_URL/history', { token: reader });
    for (const res of [snapshotHidden, oneHidden, historyHidden]) {
      expect(res.status).toBe(200);
      expect(await res.clone().text()).not.toContain('secret-path-123');
    }
    expect(((await json(snapshotHidden)).values as Record<string, Json>).EXPORT_WEBHOOK_URL).toMatchObject({
      value: null,
      masked: true,
      sensitive: true,
    });
    expect(await json(oneHidden)).toMatchObject({ value: null, masked: true });

    const snapshotClear = await json(await api.call('/v1/config', { token: trusted }));
    expect((snapshotClear.values as Record<string, Json>).EXPORT_WEBHOOK_URL).toMatchObject({
      value: other,
      sensitive: true,
    });
    const oneClear = await json(await api.call('/v1/config/EXPORT_WEBHOOK_URL', { token: trusted }));
    expect(oneClear).toMatchObject({ value: other });
    expect(oneClear).not.toHaveProperty('masked');
  });
});

describe('errors', () => {
  it('never carry a stack trace or a source path', async () => {
    const api = await startTestApi('routes_errors');
    const writer = await api.token('write');
    const answers = await Promise.all([
      api.call('/v1/config/NOPE', { token: writer }),
      put(api, writer, 'MAX_BATCH_SIZE', { value: { deep: [1, 2] } }),
      put(api, writer, 'MAX_BATCH_SIZE', {}),
      put(api, writer, 'MAX_BATCH_SIZE', { value: 5, scope: 7 }),
      post(api, writer, '/v1/config/MAX_BATCH_SIZE/rollback', { version: 'x' }),
      post(api, writer, '/v1/config/MAX_BATCH_SIZE/rollback', { version: 1234 }),
      api.call('/v1/config/MAX_BATCH_SIZE/history?before=-1', { token: writer }),
      api.call('/v1/config/MAX_BATCH_SIZE', {
        method: 'PUT',
        token: writer,
        headers: { 'content-type': 'application/json' },
        body: '{{{',
      }),
      api.call('/v1/config/MAX_BATCH_SIZE', {
        method: 'PUT',
        token: writer,
        headers: { 'content-type': 'text/plain' },
        body: 'value=5',
      }),
    ]);
    for (const res of answers) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
      expect(text).not.toMatch(LEAK);
    }
  });
});
