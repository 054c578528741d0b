import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient, ConfigClientFatalError, type ConfigClientOptions } from '@config-bot/client';
import { clientApi, next, type ClientApi } from './real-api.js';

describe('ConfigClient refusing to start', () => {
  let api: ClientApi;
  let dir: string;
  const clients: ConfigClient[] = [];

  const open = (options: Partial<ConfigClientOptions>): ConfigClient => {
    const client = new ConfigClient({
      url: api.relay.url,
      token: api.token,
      reportIntervalMs: 60_000,
      backoff: { minMs: 1, maxMs: 1 },
      ...options,
    });
    client.on('warn', () => undefined);
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'config-client-'));
    api = await clientApi('client_refusals');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects ready() at once on a refused token, emits it, and does not retry', async () => {
    const client = open({ token: 'cfgbot_bad_token', cacheFile: path.join(dir, 'c.json') });
    const emitted = next<Error>(client, 'error');
    const err = (await client.ready().catch((e: unknown) => e)) as ConfigClientFatalError;
    expect(err).toBeInstanceOf(ConfigClientFatalError);
    expect(err.status).toBe(401);
    expect(err.message).toBe(
      'The configuration API refused the token (GET /v1/config answered 401 UNAUTHORIZED: A valid API token is required: send `Authorization: Bearer cfgbot_…` (create one with /config token create).); check the token the client is given',
    );
    expect(await emitted).toBe(err);
    // With a 1 ms backoff, a retrying client would have made many requests by now.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(api.relay.requests).toHaveLength(1);
  });

  it('rejects ready() on a request the API refuses (an undeclared environment)', async () => {
    await expect(open({ env: 'prod' }).ready()).rejects.toThrow(
      "The configuration API refused the request (GET /v1/config answered 400 VALIDATION: Unknown environment prod: use one of production, staging (ENVIRONMENTS).); check the client's url, env, guild and keys",
    );
  });

  it('says what to fix in one line when the API is unreachable and there is no file', async () => {
    const { url } = api.relay;
    const port = new URL(url).port;
    await api.relay.close();
    const withoutFile = open({ url });
    const missing = open({ url, cacheFile: path.join(dir, 'never-written.json') });
    const [a, b] = await Promise.all([
      withoutFile.ready().catch((e: Error) => e),
      missing.ready().catch((e: Error) => e),
    ]);
    expect(String(a)).toBe(
      `Error: Cannot reach the configuration API at ${url}/ (GET /v1/config: connect ECONNREFUSED 127.0.0.1:${port}) and no cacheFile is set: start the API or fix the url, and set cacheFile so the application can start from its last-known values`,
    );
    expect(String(b)).toContain(
      `and there is no last-known-good file at ${path.join(dir, 'never-written.json')} yet`,
    );
    expect(String(b)).not.toContain('\n');
  });

  it('keeps trying after such a refusal, and loads once the API answers', async () => {
    await api.relay.close();
    const client = open({});
    await expect(client.ready()).rejects.toThrow(/ECONNREFUSED/);
    const connected = next(client, 'connected');
    await api.relay.open();
    await connected;
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
  });
});
