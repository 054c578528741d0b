import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient, type ConfigClientOptions, type FlagChange } from '../../src/client/index.js';
import { FakeApi, next, shippedValues, TOKEN, wireFlag } from './fake-api.js';

/** What the real API cannot be made to do on demand: lack flags, fail, send what it should not. */
const base = { description: 'A flag under test', type: 'release' as const, owner: 'payments' };

describe('ConfigClient flags when the API misbehaves', () => {
  let api: FakeApi;
  let client: ConfigClient;
  let warnings: string[];

  const open = async (options: Partial<ConfigClientOptions> = {}): Promise<void> => {
    client = new ConfigClient({ url: api.url, token: TOKEN, reportIntervalMs: 60_000, ...options });
    warnings = [];
    client.on('warn', (message) => warnings.push(message));
    await client.ready();
  };

  beforeEach(async () => {
    api = await new FakeApi(shippedValues()).start();
    api.flags = [wireFlag({ ...base, name: 'on-flag', enabled: true, environments: ['production'] })];
  });

  afterEach(async () => {
    await client.close();
    await api.stop();
  });

  it('treats an API without /v1/flags as one without flags, with one warning', async () => {
    api.flags = undefined;
    await open();
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
    expect(client.isEnabled('on-flag')).toBe(false);
    expect(client.flags()).toEqual([]);
    expect(warnings).toEqual([
      `The configuration API at ${api.url}/ has no flags (GET /v1/flags answered 404, an API older than flags): every flag is off`,
    ]);
  });

  it("evaluates for the client's environment and guild unless the context names others", async () => {
    api.flags = [
      wireFlag({ ...base, name: 'staging-only', enabled: true, environments: ['staging'] }),
      wireFlag({
        ...base,
        name: 'one-server',
        enabled: true,
        environments: ['staging'],
        include: { guilds: ['222222222222222222'] },
        rollout: 0,
      }),
    ];
    await open({ env: 'staging', guild: '222222222222222222' });
    expect(client.isEnabled('staging-only')).toBe(true);
    expect(client.isEnabled('staging-only', { environment: 'production' })).toBe(false);
    expect(client.isEnabled('one-server')).toBe(true);
    expect(client.isEnabled('one-server', { guildId: '333333333333333333' })).toBe(false);
  });

  it('skips a flag event it cannot read with a warning, and moves past it', async () => {
    await open();
    const flagged = next<FlagChange>(client, 'flag');
    api.publishRaw(
      'flag',
      JSON.stringify({
        seq: api.seq + 1,
        name: 'on-flag',
        version: 2,
        action: 'set',
        flag: { name: 'on-flag', rollout: 500 },
      }),
    );
    api.flagChange(wireFlag({ ...base, name: 'on-flag', enabled: false, environments: ['production'] }, 3));
    expect(await flagged).toMatchObject({ name: 'on-flag', version: 3, enabled: false });
    expect(warnings[0]).toMatch(
      /^Ignored a flag event \(id 11\): flag on-flag: `version` is not a whole number/,
    );
    expect(client.status().seq).toBe(12);
  });

  it('keeps error reports that failed and sends them with the next batch', async () => {
    await open();
    api.failErrorReports = true;
    const failed = next(api.events, 'error-report-failed');
    client.reportError('on-flag', 3);
    await failed;
    api.failErrorReports = false;
    const sent = next<{ name: string; count: number }>(api.events, 'error-report');
    client.reportError('on-flag');
    expect(await sent).toEqual({ name: 'on-flag', count: 4 });
    expect(warnings).toEqual([
      'Could not report flag errors (kept for the next batch): POST /v1/flags/on-flag/errors answered 503 UNAVAILABLE: Database unavailable',
    ]);
    client.reportError('on-flag', 0);
    expect(warnings[1]).toBe('reportError(on-flag, 0): the count must be a whole number above 0');
  });

  it('sends the evaluation counts of a failed report again with the next one', async () => {
    await open({ reportIntervalMs: 20 });
    await next(api.events, 'report');
    api.failReports = true;
    for (let i = 0; i < 7; i++) client.isEnabled('on-flag');
    await next(api.events, 'report-failed');
    api.failReports = false;
    const seen: Record<string, number> = {};
    await new Promise<void>((resolve) => {
      const add = (report: { evaluations?: Record<string, Record<string, number>> }) => {
        for (const [name, row] of Object.entries(report.evaluations ?? {}))
          for (const n of Object.values(row)) seen[name] = (seen[name] ?? 0) + n;
        if (seen['on-flag'] === 7) {
          api.events.off('report', add);
          resolve();
        }
      };
      api.events.on('report', add);
    });
    expect(seen).toEqual({ 'on-flag': 7 });
  });
});
