import { afterEach, describe, expect, it } from 'vitest';
import { ConfigClient, type ConfigClientOptions, type FlagChange, type FlagInput } from '@config-bot/client';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { actor } from '../helpers/db.js';
import { next } from './real-api.js';

/** Flags against the real API over loopback: flags made through the runtime's FlagStore. */
const alice = actor();
const base = { description: 'A flag under test', type: 'release' as const, owner: 'payments' };

const clients: ConfigClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function open(api: TestApi, extra: Partial<ConfigClientOptions> = {}): Promise<ConfigClient> {
  const client = new ConfigClient({
    url: api.url,
    token: await api.token('read'),
    env: 'production',
    reportIntervalMs: 60_000,
    ...extra,
  });
  client.on('warn', () => undefined);
  clients.push(client);
  await client.ready();
  return client;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ConfigClient flags against the API', () => {
  it('loads the flags with the snapshot and answers as the server does, for 2,000 ids', async () => {
    const api = await startTestApi('client_flags_match');
    const flags: FlagInput[] = [
      { ...base, name: 'half-rollout', enabled: true, environments: ['production'], rollout: 37.5 },
      {
        ...base,
        name: 'beta-users',
        enabled: true,
        environments: ['production', 'staging'],
        conditions: [{ attribute: 'plan', operator: 'in', values: ['pro', 'team'] }],
        rollout: 60,
        group: 'beta',
        variants: [
          { name: 'blue', weight: 300 },
          { name: 'green', weight: 700 },
        ],
      },
      {
        ...base,
        name: 'needs-beta',
        enabled: true,
        environments: ['production'],
        prerequisites: ['beta-users'],
      },
      { ...base, name: 'old-thing', enabled: true, environments: ['production'], archived: true },
    ];
    for (const f of flags) await api.runtime.flags.create(f, alice);
    const client = await open(api);
    expect(client.flags().map((f) => [f.name, f.version])).toEqual([
      ['beta-users', 1],
      ['half-rollout', 1],
      ['needs-beta', 1],
      ['old-thing', 1],
    ]);
    const server = api.runtime.flags.set;
    let on = 0;
    for (let i = 0; i < 2000; i++) {
      const userId = `user-${i}`;
      const attributes = { plan: i % 3 === 0 ? 'free' : 'pro' };
      for (const name of ['half-rollout', 'beta-users', 'needs-beta', 'old-thing', 'no-such-flag']) {
        const here = client.isEnabled(name, { userId, attributes });
        expect(here).toBe(server.isEnabled(name, { userId, attributes, environment: 'production' }));
        if (here) on++;
      }
      expect(client.variant('beta-users', { userId, attributes })).toEqual(
        server.variant('beta-users', { userId, attributes, environment: 'production' }),
      );
    }
    expect(on).toBeGreaterThan(1000);
    expect(client.explainFlag('old-thing')).toMatchObject({ enabled: false, reason: 'archived' });
    expect(client.isEnabled('half-rollout', { userId: 'user-1', environment: 'staging' })).toBe(false);
  });

  it("evaluates for the client's environment and guild unless the context names others", async () => {
    const api = await startTestApi('client_flags_defaults');
    await api.runtime.flags.create(
      { ...base, name: 'staging-only', enabled: true, environments: ['staging'] },
      alice,
    );
    await api.runtime.flags.create(
      {
        ...base,
        name: 'one-server',
        enabled: true,
        environments: ['staging'],
        include: { guilds: ['222222222222222222'] },
        rollout: 0,
      },
      alice,
    );
    const client = await open(api, { env: 'staging', guild: '222222222222222222' });
    expect(client.isEnabled('staging-only')).toBe(true);
    expect(client.isEnabled('staging-only', { environment: 'production' })).toBe(false);
    expect(client.isEnabled('one-server')).toBe(true);
    expect(client.isEnabled('one-server', { guildId: '333333333333333333' })).toBe(false);
  });

  it('applies a change made on the server as soon as the stream brings it', async () => {
    const api = await startTestApi('client_flags_live');
    await api.runtime.flags.create(
      { ...base, name: 'new-checkout', enabled: true, environments: ['production'] },
      alice,
    );
    const client = await open(api);
    expect(client.isEnabled('new-checkout', { userId: 'u1' })).toBe(true);
    const changed = next<FlagChange>(client, 'flag');
    await api.runtime.flags.update('new-checkout', (f) => ({ ...f, enabled: false }), alice);
    expect(await changed).toMatchObject({
      name: 'new-checkout',
      version: 2,
      action: 'set',
      enabled: false,
      actor: { id: alice.id },
      previous: { enabled: true },
    });
    expect(client.isEnabled('new-checkout', { userId: 'u1' })).toBe(false);
    const created = next<FlagChange>(client, 'flag');
    await api.runtime.flags.create(
      { ...base, name: 'later-flag', enabled: true, environments: ['production'] },
      alice,
    );
    expect(await created).toMatchObject({
      name: 'later-flag',
      action: 'create',
      enabled: true,
      previous: undefined,
    });
    expect(client.isEnabled('later-flag')).toBe(true);
  });

  it('batches reportError into one request per flag, and the threshold kill reaches isEnabled', async () => {
    const api = await startTestApi('client_flags_kill');
    await api.runtime.flags.create(
      {
        ...base,
        name: 'risky-path',
        enabled: true,
        environments: ['production'],
        errorThreshold: { errors: 5, windowMs: 60_000 },
      },
      alice,
    );
    const posts: string[] = [];
    const client = await open(api, {
      fetch: (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (init?.method === 'POST' && url.pathname.endsWith('/errors')) posts.push(String(init.body));
        return fetch(input, init);
      },
    });
    const warnings: string[] = [];
    client.on('warn', (message) => warnings.push(message));
    expect(client.isEnabled('risky-path', { userId: 'u1' })).toBe(true);
    const killed = next<FlagChange>(client, 'flag');
    for (let i = 0; i < 4; i++) client.reportError('risky-path');
    client.reportError('risky-path', 2);
    expect(await killed).toMatchObject({ name: 'risky-path', action: 'kill', enabled: false });
    expect(posts).toEqual(['{"count":6}']);
    expect(client.isEnabled('risky-path', { userId: 'u1' })).toBe(false);
    expect(client.explainFlag('risky-path').reason).toBe('disabled');
    expect(warnings.some((w) => w.includes('risky-path was switched off automatically'))).toBe(true);
  });

  it('sends its evaluation counts with its reports, each evaluation once', async () => {
    const api = await startTestApi('client_flags_counts');
    await api.runtime.flags.create(
      { ...base, name: 'counted-flag', enabled: true, environments: ['production'], rollout: 50 },
      alice,
    );
    const client = await open(api, { reportIntervalMs: 50 });
    for (let i = 0; i < 300; i++) client.isEnabled('counted-flag', { userId: `u${i}` });
    client.isEnabled('no-such-flag');
    client.explainFlag('counted-flag'); // for people: not counted
    const total = async () => {
      const row = (await api.runtime.flags.usage.last24h()).get('counted-flag') ?? {};
      return (row.rollout_in ?? 0) + (row.rollout_out ?? 0);
    };
    await until(async () => (await total()) === 300, 'the counts to reach the server');
    // More reports go by: counts are deltas, so nothing is added twice.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await total()).toBe(300);
    expect((await api.runtime.flags.usage.last24h()).get('no-such-flag')).toEqual({ unknown_flag: 1 });
  });
});
