import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient, type ConfigClientOptions } from '../../src/client/index.js';
import { FakeApi, next, shippedValues, TOKEN, type StreamOpened } from './fake-api.js';

type Values = { MAX_BATCH_SIZE: number; EXPORT_WEBHOOK_URL: string | null };
const SECRET = 'https://hooks.example/secret-path-123';

describe('ConfigClient last-known-good file', () => {
  let api: FakeApi;
  let dir: string;
  let cacheFile: string;
  const clients: ConfigClient<Values>[] = [];

  const open = (extra: Partial<ConfigClientOptions> = {}): ConfigClient<Values> => {
    const client = new ConfigClient<Values>({
      url: api.url,
      token: TOKEN,
      cacheFile,
      reportIntervalMs: 60_000,
      backoff: { minMs: 5, maxMs: 50 },
      ...extra,
    });
    client.on('warn', () => undefined);
    clients.push(client);
    return client;
  };

  /** A first run against the API leaves the file (close() writes it one last time). */
  const firstRun = async (): Promise<void> => {
    const client = open();
    await client.ready();
    await client.close();
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'config-client-'));
    cacheFile = path.join(dir, 'config.json');
    api = await new FakeApi(shippedValues()).start();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('never writes a sensitive value (or the token) in clear, and only for its owner', async () => {
    await firstRun();
    const text = await readFile(cacheFile, 'utf8');
    expect(text).not.toContain('secret-path-123');
    expect(text).not.toContain('hooks.example');
    expect(text).not.toContain(TOKEN);
    const content = JSON.parse(text) as { seq: number; values: Record<string, Record<string, unknown>> };
    expect(content.seq).toBe(10);
    expect(content).toMatchObject({
      api: `${api.url}/`,
      resolved: { environment: 'production', guild: null },
      tokenCheck: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) as unknown,
    });
    expect(content.values.MAX_BATCH_SIZE).toMatchObject({ value: 100, version: 1 });
    expect(content.values.EXPORT_WEBHOOK_URL).not.toHaveProperty('value');
    expect(content.values.EXPORT_WEBHOOK_URL).toHaveProperty('sealed');
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);
  });

  it('rewrites the file after a change', async () => {
    const client = open();
    await client.ready();
    const changed = next(client, 'change');
    api.change('MAX_BATCH_SIZE', 640);
    await changed;
    await expect
      .poll(async () => JSON.parse(await readFile(cacheFile, 'utf8')) as { seq: number }, { timeout: 10_000 })
      .toMatchObject({ seq: 11, values: { MAX_BATCH_SIZE: { value: 640 } } });
  });

  it('starts from the file while the API is down, then resumes the stream from its position', async () => {
    await firstRun();
    const port = api.port;
    await api.stop();
    api.change('MAX_BATCH_SIZE', 777); // made while this client could not hear it

    const client = open();
    const warned = next<string>(client, 'warn');
    await client.ready();
    expect(await warned).toMatch(
      /^Cannot reach the configuration API at .*\); serving the last-known-good values/,
    );
    expect(client.status()).toMatchObject({ source: 'last-known-good', seq: 10, connected: false });
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
    expect(client.get('EXPORT_WEBHOOK_URL')).toBe(SECRET);

    const reopened = next<StreamOpened>(api.events, 'stream');
    const changed = next(client, 'change');
    await api.start(port);
    expect((await reopened).lastEventId).toBe('10');
    expect(await changed).toMatchObject({ key: 'MAX_BATCH_SIZE', value: 777, previous: 100, seq: 11 });
    expect(api.snapshotQueries).toHaveLength(1); // the first run's only
  });

  it('names the API as the source again once the stream is back', async () => {
    await firstRun();
    const port = api.port;
    await api.stop();
    const client = open();
    await client.ready();
    expect(client.status().source).toBe('last-known-good');
    const connected = next(client, 'connected');
    await api.start(port);
    await connected;
    expect(client.status()).toMatchObject({ source: 'api', connected: true });
  });

  it('hands out values from the file the application cannot mutate', async () => {
    api.values.MAX_BATCH_SIZE = { value: { nested: [1] }, version: 1, layer: 'global', sensitive: false };
    await firstRun();
    await api.stop();
    const client = open();
    await client.ready();
    expect(client.status().source).toBe('last-known-good');
    const value = client.get('MAX_BATCH_SIZE') as unknown as { nested: number[] };
    expect(() => value.nested.push(2)).toThrow(TypeError);
  });

  it('leaves sensitive values masked when the file was written under another token', async () => {
    await firstRun();
    await api.stop();
    const client = open({ token: 'cfgbot_other_token' });
    const warnings: string[] = [];
    client.on('warn', (message) => warnings.push(message));
    await client.ready();
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
    expect(client.get('EXPORT_WEBHOOK_URL')).toBeUndefined();
    expect(warnings.some((w) => w.includes('sealed under another token (EXPORT_WEBHOOK_URL)'))).toBe(true);
  });

  it('does not use a file written for another environment', async () => {
    await firstRun();
    await api.stop();
    const client = open({ env: 'staging' });
    await expect(client.ready()).rejects.toThrow(
      /was written for env \(default\) and guild \(none\), not env staging and guild \(none\)/,
    );
  });
});
