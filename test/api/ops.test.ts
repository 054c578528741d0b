import { describe, expect, it, vi } from 'vitest';
import type { OpenAPIV3 } from 'openapi-types';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { openEvents } from '../helpers/sse.js';

const metrics = async (api: TestApi) => {
  const res = await api.call('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
};

/** The value of one sample (`name{labels} value`), or undefined when it is not exposed. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('health and readiness', () => {
  it('answers /healthz and /readyz with the database connected', async () => {
    const api = await startTestApi('ops_health');
    const health = await api.call('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await api.call('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, database: 'connected', outageSince: null });
  });
});

describe('/metrics', () => {
  it('counts open event streams in config_sse_clients', async () => {
    const api = await startTestApi('ops_sse_clients');
    expect(sample(await metrics(api), 'config_sse_clients')).toBe(0);
    const stream = await openEvents(`${api.url}/v1/events`, {
      authorization: `Bearer ${await api.token('read')}`,
    });
    expect(sample(await metrics(api), 'config_sse_clients')).toBe(1);
    stream.close();
    await vi.waitFor(async () => expect(sample(await metrics(api), 'config_sse_clients')).toBe(0));
  });

  it('shows the database up, applied changes, reads by key and refused writes', async () => {
    const api = await startTestApi('ops_counters');
    const writer = await api.token('write');
    const before = await metrics(api);
    expect(sample(before, 'config_database_up')).toBe(1);
    expect(sample(before, 'config_changes_total{key="MAX_BATCH_SIZE",action="set"}')).toBeUndefined();
    expect(sample(before, 'config_api_reads_total{key="LOG_LEVEL"}')).toBeUndefined();

    const set = await api.call('/v1/config/MAX_BATCH_SIZE', {
      method: 'PUT',
      token: writer,
      json: { value: 300 },
    });
    const { seq } = (await set.json()) as { seq: number };
    await vi.waitFor(async () => {
      const text = await metrics(api);
      expect(sample(text, 'config_changes_total{key="MAX_BATCH_SIZE",action="set"}')).toBe(1);
      expect(sample(text, 'config_change_position')).toBe(seq);
    });

    expect((await api.call('/v1/config/log_level', { token: writer })).status).toBe(200);
    expect((await api.call('/v1/config/LOG_LEVEL', { token: writer })).status).toBe(200);
    expect(sample(await metrics(api), 'config_api_reads_total{key="LOG_LEVEL"}')).toBe(2);

    const refused = await api.call('/v1/config/MAX_BATCH_SIZE', {
      method: 'PUT',
      token: writer,
      json: { value: 5000 },
    });
    expect(refused.status).toBe(400);
    const after = await metrics(api);
    expect(sample(after, 'config_writes_refused_total{action="set",reason="INVALID_VALUE"}')).toBe(1);
    expect(sample(after, 'config_api_writes_total{key="MAX_BATCH_SIZE",action="set"}')).toBe(1);
  });
});

describe('/v1/openapi.json', () => {
  it('is an OpenAPI 3 document listing /v1/config/{key} with the body PUT takes', async () => {
    const api = await startTestApi('ops_openapi');
    const res = await api.call('/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenAPIV3.Document;
    expect(doc.openapi).toMatch(/^3\./);
    const key = doc.paths['/v1/config/{key}'];
    expect(key?.get).toBeDefined();
    const body = key?.put?.requestBody as OpenAPIV3.RequestBodyObject | undefined;
    const schema = body?.content['application/json']?.schema as OpenAPIV3.SchemaObject | undefined;
    expect(Object.keys(schema?.properties ?? {}).sort()).toEqual(['reason', 'scope', 'value']);
    expect(key?.put?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'key', in: 'path', required: true })]),
    );
    for (const path of ['/v1/config', '/v1/config/{key}/history', '/v1/events', '/v1/instances'])
      expect(Object.keys(doc.paths), path).toContain(path);
  });
});

describe('/v1/instances', () => {
  it('lists this process as a live api instance', async () => {
    const api = await startTestApi('ops_instances');
    const token = await api.token('read');
    await vi.waitFor(async () => {
      const body = (await (await api.call('/v1/instances', { token })).json()) as {
        latest: number;
        instances: { id: string; kind: string; state: string }[];
      };
      expect(body.latest).toBe(api.runtime.feed.position);
      expect(body.instances).toContainEqual(
        expect.objectContaining({ id: api.runtime.instanceId, kind: 'api', state: 'live' }),
      );
    });
  });

  it('records a client’s report, listed under its token as client:<token id>:<id>, and refuses a bad report with 400', async () => {
    const api = await startTestApi('ops_report');
    const token = await api.token('read');
    const listed = `client:${token.split('_')[1] ?? ''}:worker-7`;
    const report = { id: 'worker-7', name: 'billing worker', pid: 4242, version: '1.2.3', applied: 5 };
    const res = await api.call('/v1/instances/report', { method: 'POST', token, json: report });
    expect(res.status).toBe(204);
    const list = (await (await api.call('/v1/instances', { token })).json()) as { instances: unknown[] };
    expect(list.instances).toContainEqual(
      expect.objectContaining({
        id: listed,
        kind: 'client',
        name: 'billing worker',
        pid: 4242,
        version: '1.2.3',
        applied: 5,
        state: 'live',
      }),
    );

    for (const [bad, field] of [
      [{ id: 'worker-7' }, 'body.applied'],
      [{ id: 'has spaces', applied: 1 }, 'body.id'],
      [{ id: 'worker-7', applied: -1 }, 'body.applied'],
    ] as const) {
      const refused = await api.call('/v1/instances/report', { method: 'POST', token, json: bad });
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('VALIDATION');
      expect(error.message).toContain(field);
    }
    const again = (await (await api.call('/v1/instances', { token })).json()) as {
      instances: { id: string }[];
    };
    expect(again.instances.filter((i) => i.id.startsWith('client:')).map((i) => i.id)).toEqual([listed]);
  });
});

describe('unknown routes', () => {
  it('answer 404 with a JSON error', async () => {
    const api = await startTestApi('ops_not_found');
    const res = await api.call('/v1/nothing-here?x=1', { token: await api.token('read') });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      error: { code: 'NOT_FOUND', message: expect.stringMatching(/^No route GET \/v1\/nothing-here;/) },
    });
  });
});
