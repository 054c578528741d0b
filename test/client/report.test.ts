import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient, type ConfigClientOptions, type InstanceReport } from '@config-bot/client';
import { clientApi, type ClientApi } from './real-api.js';
import type { Relayed } from './relay.js';

const isReport = (r: Relayed): boolean => r.method === 'POST' && r.path === '/v1/instances/report';
const report = (r: Relayed): InstanceReport => JSON.parse(r.body) as InstanceReport;

describe('ConfigClient reporting the change it applied', () => {
  let api: ClientApi;
  let client: ConfigClient;

  const open = async (options: Partial<ConfigClientOptions> = {}): Promise<void> => {
    const first = api.relay.next(isReport);
    client = new ConfigClient({
      url: api.relay.url,
      token: api.token,
      name: 'worker-a',
      version: '2.3.1',
      env: 'production',
      ...options,
    });
    await client.ready();
    await first;
  };

  beforeEach(async () => {
    api = await clientApi('client_report');
  });

  afterEach(async () => {
    await client.close();
  });

  it('reports as soon as values are loaded, who it is and what it applied', async () => {
    await open({ reportIntervalMs: 60_000 });
    expect(api.relay.requests.filter(isReport).map(report)).toEqual([
      {
        id: client.id,
        name: 'worker-a',
        host: hostname(),
        pid: process.pid,
        version: '2.3.1',
        applied: api.seq,
      },
    ]);
    // The API took it: the client is listed with what it applied.
    await expect
      .poll(async () => {
        const res = await api.api.call('/v1/instances', { token: api.token });
        const { instances } = (await res.json()) as { instances: { name: string; applied: number }[] };
        return instances.find((i) => i.name === 'worker-a');
      })
      .toMatchObject({ applied: api.seq });
  });

  it('reports at once after applying a change or a checkpoint, not waiting for the interval', async () => {
    await open({ reportIntervalMs: 60_000 });
    let reported = api.relay.next(isReport);
    const changed = await api.set('MAX_BATCH_SIZE', 5);
    expect(report(await reported).applied).toBe(changed);
    // A change made for another environment is a checkpoint on this client's stream.
    reported = api.relay.next(isReport);
    const elsewhere = await api.set('MAX_BATCH_SIZE', 6, 'env:staging');
    expect(report(await reported).applied).toBe(elsewhere);
  });

  it('reports again every interval while nothing changes', async () => {
    await open({ reportIntervalMs: 20 });
    await api.relay.next(isReport);
    await api.relay.next(isReport);
    const sent = api.relay.requests.filter(isReport).map(report);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(new Set(sent.map((r) => r.applied))).toEqual(new Set([api.seq]));
  });

  it('only warns when reports fail, once per run of failures', async () => {
    await open({ reportIntervalMs: 10 });
    const warnings: string[] = [];
    client.on('warn', (message) => warnings.push(message));
    // The API answers reports 503 while its database is down (the relay answers so at once).
    api.relay.answer(isReport, 503, { error: { code: 'UNAVAILABLE', message: 'Database unavailable' } });
    for (let i = 0; i < 3; i++) await api.relay.next(isReport);
    expect(warnings).toEqual([
      'Could not report the applied position: POST /v1/instances/report answered 503 UNAVAILABLE: Database unavailable',
    ]);
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
  });
});
