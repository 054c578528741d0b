import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient, type ConfigClientOptions } from '../../src/client/index.js';
import { FakeApi, next, shippedValues, TOKEN } from './fake-api.js';

describe('ConfigClient reporting the change it applied', () => {
  let api: FakeApi;
  let client: ConfigClient;

  const open = async (options: Partial<ConfigClientOptions> = {}): Promise<void> => {
    const first = next(api.events, 'report');
    client = new ConfigClient({ url: api.url, token: TOKEN, name: 'worker-a', version: '2.3.1', ...options });
    await client.ready();
    await first;
  };

  beforeEach(async () => {
    api = await new FakeApi(shippedValues()).start();
  });

  afterEach(async () => {
    await client.close();
    await api.stop();
  });

  it('reports as soon as values are loaded, who it is and what it applied', async () => {
    await open({ reportIntervalMs: 60_000 });
    expect(api.reports).toEqual([
      { id: client.id, name: 'worker-a', host: hostname(), pid: process.pid, version: '2.3.1', applied: 10 },
    ]);
  });

  it('reports at once after applying a change or a checkpoint, not waiting for the interval', async () => {
    await open({ reportIntervalMs: 60_000 });
    let reported = next<{ applied: number }>(api.events, 'report');
    api.change('MAX_BATCH_SIZE', 5);
    expect((await reported).applied).toBe(11);
    reported = next<{ applied: number }>(api.events, 'report');
    api.checkpoint();
    expect((await reported).applied).toBe(12);
  });

  it('reports again every interval while nothing changes', async () => {
    await open({ reportIntervalMs: 20 });
    await next(api.events, 'report');
    await next(api.events, 'report');
    expect(api.reports.length).toBeGreaterThanOrEqual(3);
    expect(new Set(api.reports.map((r) => r.applied))).toEqual(new Set([10]));
  });

  it('only warns when reports fail, once per run of failures', async () => {
    await open({ reportIntervalMs: 10 });
    const warnings: string[] = [];
    client.on('warn', (message) => warnings.push(message));
    api.failReports = true;
    for (let i = 0; i < 3; i++) await next(api.events, 'report-failed');
    expect(warnings).toEqual([
      'Could not report the applied position: POST /v1/instances/report answered 503 UNAVAILABLE: Database unavailable',
    ]);
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
  });
});
