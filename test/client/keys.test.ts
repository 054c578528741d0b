import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient, ConfigClientFatalError } from '@config-bot/client';
import { clientApi, isStream, next, type ClientApi } from './real-api.js';

describe('ConfigClient keys', () => {
  let api: ClientApi;
  const clients: ConfigClient[] = [];

  const open = (keys: string[]): ConfigClient => {
    const client = new ConfigClient({ url: api.relay.url, token: api.token, keys, reportIntervalMs: 60_000 });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    api = await clientApi('client_keys');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  it('loads and follows keys given in any case, upper-cased as the API spells them', async () => {
    const opened = api.relay.next(isStream);
    const client = open(['max_batch_size', 'Ai_Confidence_Threshold']);
    await client.ready();
    expect((await opened).query.get('keys')).toBe('AI_CONFIDENCE_THRESHOLD,MAX_BATCH_SIZE');
    expect(client.getAll()).toEqual({ MAX_BATCH_SIZE: 100, AI_CONFIDENCE_THRESHOLD: 0.85 });
    expect(client.get('max_batch_size')).toBe(100);

    const seen: unknown[] = [];
    client.subscribe(['max_batch_size'], (change) => void seen.push(change.value));
    const changed = next(client, 'change');
    await api.set('MAX_BATCH_SIZE', 250);
    await changed;
    expect(seen).toEqual([250]);
  });

  it('rejects ready() naming a key the API does not have, and stops', async () => {
    const client = open(['MAX_BATCH_SIZE', 'max_batch_sise']);
    const err = (await client.ready().catch((e: unknown) => e)) as ConfigClientFatalError;
    expect(err).toBeInstanceOf(ConfigClientFatalError);
    expect(err.message).toBe(
      "The configuration API has no key MAX_BATCH_SISE (GET /v1/config); check the client's keys",
    );
    expect(err.status).toBe(404);
    expect(client.status()).toMatchObject({ ready: false, connected: false });
  });
});
