import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpenFeature, ProviderEvents, type EventDetails } from '@openfeature/server-sdk';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { ConfigBotProvider, ConfigClient } from '@config-bot/client';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { actor } from '../helpers/db.js';
import { clientApi, next } from './real-api.js';

/** The SDK used the way an application uses it, over a client of the real API. */
const alice = actor();
const base = { description: 'A flag under test', type: 'release' as const, owner: 'payments' };

const clients: ConfigClient[] = [];
afterEach(async () => {
  await OpenFeature.close();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function clientOf(url: string, token: string): ConfigClient {
  const client = new ConfigClient({
    url,
    token,
    env: 'production',
    reportIntervalMs: 60_000,
    backoff: { minMs: 20, maxMs: 100 },
  });
  client.on('warn', () => undefined);
  clients.push(client);
  return client;
}

async function withFlags(label: string): Promise<TestApi> {
  const api = await startTestApi(label);
  await api.runtime.flags.create(
    { ...base, name: 'everyone', enabled: true, environments: ['production'] },
    alice,
  );
  await api.runtime.flags.create(
    { ...base, name: 'switched-off', enabled: false, environments: ['production'] },
    alice,
  );
  await api.runtime.flags.create(
    {
      ...base,
      name: 'half',
      enabled: true,
      environments: ['production'],
      rollout: 50,
      variants: [
        { name: 'a', weight: 500 },
        { name: 'b', weight: 500 },
      ],
    },
    alice,
  );
  await api.runtime.flags.create(
    {
      ...base,
      name: 'pro-only',
      enabled: true,
      environments: ['production'],
      conditions: [{ attribute: 'plan', operator: 'equals', values: ['pro'] }],
      include: { users: ['123456789012345678'], roles: [], guilds: [] },
    },
    alice,
  );
  return api;
}

describe('ConfigBotProvider in the OpenFeature SDK', () => {
  it('answers boolean flags with the reason, variant and version, as isEnabled does', async () => {
    const api = await withFlags('openfeature_flags');
    const client = clientOf(api.url, await api.token('read'));
    await OpenFeature.setProviderAndWait(new ConfigBotProvider(client));
    const of = OpenFeature.getClient();

    expect(await of.getBooleanDetails('everyone', false)).toMatchObject({
      value: true,
      reason: 'STATIC',
      flagMetadata: { version: 1, reason: 'rollout_in' },
    });
    expect(await of.getBooleanDetails('switched-off', true)).toMatchObject({
      value: false,
      reason: 'DISABLED',
    });
    expect(await of.getBooleanDetails('pro-only', true, { targetingKey: 'u1', plan: 'free' })).toMatchObject({
      value: false,
      reason: 'TARGETING_MATCH',
    });
    expect(await of.getBooleanValue('pro-only', false, { targetingKey: 'u1', plan: 'pro' })).toBe(true);
    expect(
      await of.getBooleanDetails('pro-only', false, { targetingKey: '123456789012345678' }),
    ).toMatchObject({ value: true, reason: 'TARGETING_MATCH', flagMetadata: { reason: 'included' } });
    expect(await of.getBooleanDetails('everyone', true, { environment: 'staging' })).toMatchObject({
      value: false,
      reason: 'DISABLED',
    });
    for (let i = 0; i < 50; i++) {
      const ctx = { targetingKey: `user-${i}` };
      const details = await of.getBooleanDetails('half', false, ctx);
      expect(details.value).toBe(client.isEnabled('half', { userId: `user-${i}` }));
      expect(details.reason).toBe('SPLIT');
      expect(details.variant).toBe(
        details.value ? client.variant('half', { userId: `user-${i}` }).name : undefined,
      );
    }

    const unknown = await of.getBooleanDetails('no-such-flag', true);
    expect(unknown).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
  });

  it('answers string and number values from configuration keys, and says what is wrong otherwise', async () => {
    const api = await startTestApi('openfeature_config');
    // A token that may see sensitive values: EXPORT_WEBHOOK_URL (null) is then an answer, not masked.
    const client = clientOf(api.url, await api.token('read', { sensitive: true }));
    await OpenFeature.setProviderAndWait(new ConfigBotProvider(client));
    const of = OpenFeature.getClient();

    expect(await of.getStringDetails('LOG_LEVEL', 'warn')).toMatchObject({ value: 'info', reason: 'STATIC' });
    expect(await of.getNumberValue('MAX_BATCH_SIZE', 1)).toBe(100);
    expect(await of.getBooleanDetails('MAINTENANCE_MODE', true)).toMatchObject({
      value: false,
      reason: 'STATIC',
    });
    expect(await of.getStringDetails('EXPORT_WEBHOOK_URL', 'none')).toMatchObject({
      value: 'none',
      reason: 'DEFAULT',
    });
    expect(await of.getNumberDetails('LOG_LEVEL', 3)).toMatchObject({
      value: 3,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
      errorMessage: 'LOG_LEVEL holds a string, not a number',
    });
    expect(await of.getObjectDetails('MAX_BATCH_SIZE', { a: 1 })).toMatchObject({
      value: { a: 1 },
      errorCode: 'TYPE_MISMATCH',
    });
    expect(await of.getStringDetails('NO_SUCH_KEY', 'x')).toMatchObject({
      value: 'x',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(await of.getNumberDetails('MAX_BATCH_SIZE', 7, { environment: 'staging' })).toMatchObject({
      value: 7,
      reason: 'ERROR',
      errorCode: 'INVALID_CONTEXT',
    });
    expect(await of.getNumberValue('MAX_BATCH_SIZE', 7, { environment: 'production' })).toBe(100);
  });

  it('tells the application when a flag or a value changes', async () => {
    const api = await withFlags('openfeature_events');
    const client = clientOf(api.url, await api.token('read'));
    await OpenFeature.setProviderAndWait(new ConfigBotProvider(client));
    const of = OpenFeature.getClient();
    const changed = new Promise<EventDetails | undefined>((resolve) =>
      of.addHandler(ProviderEvents.ConfigurationChanged, resolve),
    );
    await api.runtime.flags.update('everyone', (f) => ({ ...f, enabled: false }), alice);
    expect((await changed)?.flagsChanged).toEqual(['everyone']);
    expect(await of.getBooleanDetails('everyone', true)).toMatchObject({
      value: false,
      reason: 'DISABLED',
      flagMetadata: { version: 2 },
    });
  });
});

describe('ConfigBotProvider status', () => {
  it('goes STALE when the stream drops (answering from memory) and READY when it is back', async () => {
    const api = await clientApi('openfeature_stale');
    await api.api.runtime.flags.create(
      { ...base, name: 'everyone', enabled: true, environments: ['production'] },
      alice,
    );
    const client = clientOf(api.relay.url, api.token);
    const connected = next(client, 'connected');
    await OpenFeature.setProviderAndWait(new ConfigBotProvider(client));
    await connected;
    const of = OpenFeature.getClient();
    expect(of.providerStatus).toBe('READY');
    const stale = new Promise((resolve) => of.addHandler(ProviderEvents.Stale, resolve));
    const ready = new Promise((resolve) => stale.then(() => of.addHandler(ProviderEvents.Ready, resolve)));
    await api.relay.close();
    await stale;
    expect(of.providerStatus).toBe('STALE');
    // Stale answers are still answers: the values in memory stay in force.
    expect(await of.getBooleanValue('everyone', false)).toBe(true);
    await api.relay.open();
    await ready;
    expect(of.providerStatus).toBe('READY');
  });

  it('reads object values', async () => {
    // The shipped keys hold scalars: a key of a JSON kind reaches the client from a last-known-good file.
    const api = await clientApi('openfeature_object');
    const dir = await mkdtemp(path.join(tmpdir(), 'openfeature-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const cacheFile = path.join(dir, 'config.json');
    const first = new ConfigClient({ url: api.relay.url, token: api.token, cacheFile });
    await first.ready();
    await first.close();
    const content = JSON.parse(await readFile(cacheFile, 'utf8')) as { values: Record<string, unknown> };
    content.values.RETRY_POLICY = {
      value: { attempts: 3, delays: [1, 5] },
      version: 1,
      layer: 'global',
      sensitive: false,
    };
    await writeFile(cacheFile, JSON.stringify(content));
    await api.relay.close();

    const client = new ConfigClient({ url: api.relay.url, token: api.token, cacheFile });
    client.on('warn', () => undefined);
    clients.push(client);
    await OpenFeature.setProviderAndWait(new ConfigBotProvider(client));
    expect(await OpenFeature.getClient().getObjectDetails('RETRY_POLICY', {})).toMatchObject({
      value: { attempts: 3, delays: [1, 5] },
      reason: 'STATIC',
    });
  });

  it('fails setProviderAndWait when the client cannot load, and answers PROVIDER_NOT_READY meanwhile', async () => {
    const api = await clientApi('openfeature_refused');
    // A token limited to staging, for a client of production: the API refuses it (403).
    const client = clientOf(api.relay.url, await api.api.token('read', { scope: 'env:staging' }));
    client.on('error', () => undefined);
    const provider = new ConfigBotProvider(client);
    expect(await provider.resolveBooleanEvaluation('everyone', true, {})).toMatchObject({
      value: true,
      errorCode: 'PROVIDER_NOT_READY',
    });
    await expect(OpenFeature.setProviderAndWait(provider)).rejects.toThrow(/refused the token/);
    expect((await OpenFeature.getClient().getBooleanDetails('everyone', true)).value).toBe(true);
  });

  it('detaches from the client on close, and closes it only when asked to', async () => {
    const api = await clientApi('openfeature_detach');
    const kept = clientOf(api.relay.url, api.token);
    await OpenFeature.setProviderAndWait(new ConfigBotProvider(kept));
    expect(kept.listenerCount('change')).toBe(1);
    await OpenFeature.close();
    expect(kept.listenerCount('change')).toBe(0);
    const changed = next(kept, 'change');
    await api.set('MAX_BATCH_SIZE', 5);
    await changed; // still following
    const owned = clientOf(api.relay.url, api.token);
    const close = vi.spyOn(owned, 'close');
    await OpenFeature.setProviderAndWait(new ConfigBotProvider(owned, { closeClient: true }));
    await OpenFeature.close();
    expect(close).toHaveBeenCalledOnce();
  });
});
