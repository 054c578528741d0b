import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient, type ConfigClientOptions, type FlagChange } from '@config-bot/client';
import { actor } from '../helpers/db.js';
import { clientApi, next, type ClientApi } from './real-api.js';
import type { Relayed } from './relay.js';

/** Flags when the API is of another release, garbles an event, or cannot record what it is sent. */
const alice = actor();
const base = { description: 'A flag under test', type: 'release' as const, owner: 'payments' };
const isReport = (r: Relayed): boolean => r.method === 'POST' && r.path === '/v1/instances/report';
const isErrorReport = (r: Relayed): boolean => r.method === 'POST' && r.path === '/v1/flags/on-flag/errors';

describe('ConfigClient flags when the API misbehaves', () => {
  let api: ClientApi;
  let client: ConfigClient;
  let warnings: string[];

  const open = async (options: Partial<ConfigClientOptions> = {}): Promise<void> => {
    client = new ConfigClient({
      url: api.relay.url,
      token: api.token,
      env: 'production',
      reportIntervalMs: 60_000,
      ...options,
    });
    warnings = [];
    client.on('warn', (message) => warnings.push(message));
    await client.ready();
  };

  beforeEach(async () => {
    api = await clientApi('client_flag_faults');
    await api.api.runtime.flags.create(
      { ...base, name: 'on-flag', enabled: true, environments: ['production'] },
      alice,
    );
  });

  afterEach(async () => {
    await client.close();
  });

  it('treats an API without /v1/flags as one without flags, with one warning', async () => {
    // An API of a release before flags: the route is not there.
    api.relay.answer((r) => r.path === '/v1/flags', 404, {
      error: { code: 'NOT_FOUND', message: 'No route GET /v1/flags' },
    });
    await open();
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
    expect(client.isEnabled('on-flag')).toBe(false);
    expect(client.flags()).toEqual([]);
    expect(warnings).toEqual([
      `The configuration API at ${api.relay.url}/ has no flags (GET /v1/flags answered 404, an API older than flags): every flag is off`,
    ]);
  });

  it('skips a flag event it cannot read with a warning, and moves past it', async () => {
    await open();
    expect(client.isEnabled('on-flag')).toBe(true);
    api.relay.garbleNext(
      'flag',
      JSON.stringify({ name: 'on-flag', version: 2, action: 'set', flag: { name: 'on-flag', rollout: 500 } }),
      (data) => (JSON.parse(data) as { version: number }).version === 2,
    );
    const flagged = next<FlagChange>(client, 'flag');
    await api.api.runtime.flags.update('on-flag', (f) => ({ ...f, rollout: 50 }), alice);
    await api.api.runtime.flags.update('on-flag', (f) => ({ ...f, enabled: false }), alice);
    const change = await flagged;
    expect(change).toMatchObject({ name: 'on-flag', version: 3, enabled: false });
    expect(warnings[0]).toMatch(
      new RegExp(
        `^Ignored a flag event \\(id ${change.seq - 1}\\): flag on-flag: \`version\` is not a whole number`,
      ),
    );
    expect(client.status().seq).toBe(change.seq);
  });

  it('keeps error reports that failed and sends them with the next batch', async () => {
    await open();
    // The API answers 503 while its database is down (the relay answers so at once).
    const outage = api.relay.answer(isErrorReport, 503, {
      error: {
        code: 'UNAVAILABLE',
        message: 'Database unavailable: the errors were not recorded. Try again in a moment.',
      },
    });
    const failed = api.relay.next(isErrorReport);
    client.reportError('on-flag', 3);
    expect(JSON.parse((await failed).body)).toEqual({ count: 3 });
    outage();
    const sent = api.relay.next(isErrorReport);
    client.reportError('on-flag');
    expect(JSON.parse((await sent).body)).toEqual({ count: 4 });
    expect(warnings).toEqual([
      'Could not report flag errors (kept for the next batch): POST /v1/flags/on-flag/errors answered 503 UNAVAILABLE: Database unavailable: the errors were not recorded. Try again in a moment.',
    ]);
    client.reportError('on-flag', 0);
    expect(warnings[1]).toBe('reportError(on-flag, 0): the count must be a whole number above 0');
  });

  it('sends the evaluation counts of a failed report again with the next one', async () => {
    await open({ reportIntervalMs: 20 });
    await api.relay.next(isReport);
    const outage = api.relay.answer(isReport, 503, {
      error: { code: 'UNAVAILABLE', message: 'Database unavailable' },
    });
    const carrying = api.relay.next(
      (r) => isReport(r) && (JSON.parse(r.body) as { evaluations?: object }).evaluations !== undefined,
    );
    for (let i = 0; i < 7; i++) client.isEnabled('on-flag');
    // The report carrying them is refused: the API never counts it.
    expect(JSON.parse((await carrying).body)).toMatchObject({
      evaluations: { 'on-flag': { rollout_in: 7 } },
    });
    outage();
    const total = async () => {
      const row = (await api.api.runtime.flags.usage.last24h()).get('on-flag') ?? {};
      return Object.values(row).reduce((n, c) => n + (c ?? 0), 0);
    };
    await expect.poll(total, { timeout: 10_000 }).toBe(7);
  });
});
