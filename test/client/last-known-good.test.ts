import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient, type ConfigClientOptions } from '@config-bot/client';
import { clientApi, isSnapshot, isStream, next, SECRET, type ClientApi } from './real-api.js';

type Values = { MAX_BATCH_SIZE: number; EXPORT_WEBHOOK_URL: string | null };
type Content = { seq: number; values: Record<string, Record<string, unknown>> };

describe('ConfigClient last-known-good file', () => {
  let api: ClientApi;
  let dir: string;
  let cacheFile: string;
  const clients: ConfigClient<Values>[] = [];

  const open = (extra: Partial<ConfigClientOptions> = {}): ConfigClient<Values> => {
    const client = new ConfigClient<Values>({
      url: api.relay.url,
      token: api.token,
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

  const content = async (): Promise<Content> => JSON.parse(await readFile(cacheFile, 'utf8')) as Content;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'config-client-'));
    cacheFile = path.join(dir, 'config.json');
    api = await clientApi('client_lkg');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('never writes a sensitive value (or the token) in clear, and only for its owner', async () => {
    await firstRun();
    const text = await readFile(cacheFile, 'utf8');
    expect(text).not.toContain('secret-path-123');
    expect(text).not.toContain('hooks.example');
    expect(text).not.toContain(api.token);
    const written = JSON.parse(text) as Content;
    expect(written.seq).toBe(api.seq);
    expect(written).toMatchObject({
      api: `${api.relay.url}/`,
      resolved: { environment: 'production', guild: null },
      tokenCheck: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) as unknown,
    });
    expect(written.values.MAX_BATCH_SIZE).toMatchObject({ value: 100, version: 1 });
    expect(written.values.EXPORT_WEBHOOK_URL).not.toHaveProperty('value');
    expect(written.values.EXPORT_WEBHOOK_URL).toHaveProperty('sealed');
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);
  });

  it('rewrites the file after a change', async () => {
    const client = open();
    await client.ready();
    const changed = next(client, 'change');
    const seq = await api.set('MAX_BATCH_SIZE', 640);
    await changed;
    await expect
      .poll(content, { timeout: 10_000 })
      .toMatchObject({ seq, values: { MAX_BATCH_SIZE: { value: 640 } } });
  });

  it('starts from the file while the API is down, then resumes the stream from its position', async () => {
    await firstRun();
    await api.relay.close();
    const seq = await api.set('MAX_BATCH_SIZE', 777); // made while this client could not hear it

    const client = open();
    const warned = next<string>(client, 'warn');
    await client.ready();
    expect(await warned).toMatch(
      /^Cannot reach the configuration API at .*\); serving the last-known-good values/,
    );
    expect(client.status()).toMatchObject({ source: 'last-known-good', seq: api.seq, connected: false });
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
    expect(client.get('EXPORT_WEBHOOK_URL')).toBe(SECRET);

    const reopened = api.relay.next(isStream);
    const changed = next(client, 'change');
    await api.relay.open();
    expect((await reopened).lastEventId).toBe(String(api.seq));
    expect(await changed).toMatchObject({ key: 'MAX_BATCH_SIZE', value: 777, previous: 100, seq });
    expect(api.relay.requests.filter(isSnapshot)).toHaveLength(1); // the first run's only
  });

  it('names the API as the source again once the stream is back', async () => {
    await firstRun();
    await api.relay.close();
    const client = open();
    await client.ready();
    expect(client.status().source).toBe('last-known-good');
    const connected = next(client, 'connected');
    await api.relay.open();
    await connected;
    expect(client.status()).toMatchObject({ source: 'api', connected: true });
  });

  it('hands out values from the file the application cannot mutate', async () => {
    await firstRun();
    // A value holding an object, as a key of a JSON kind would (the shipped keys hold scalars).
    const written = await content();
    (written.values.MAX_BATCH_SIZE as { value: unknown }).value = { nested: [1] };
    await writeFile(cacheFile, JSON.stringify(written));
    await api.relay.close();
    const client = open();
    await client.ready();
    expect(client.status().source).toBe('last-known-good');
    const value = client.get('MAX_BATCH_SIZE') as unknown as { nested: number[] };
    expect(value).toEqual({ nested: [1] });
    expect(() => value.nested.push(2)).toThrow(TypeError);
  });

  it('leaves sensitive values masked when the file was written under another token', async () => {
    await firstRun();
    await api.relay.close();
    const client = open({ token: await api.api.token('read', { sensitive: true }) });
    const warnings: string[] = [];
    client.on('warn', (message) => warnings.push(message));
    await client.ready();
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
    expect(client.get('EXPORT_WEBHOOK_URL')).toBeUndefined();
    expect(warnings.some((w) => w.includes('sealed under another token (EXPORT_WEBHOOK_URL)'))).toBe(true);
  });

  it('does not use a file written for another environment', async () => {
    await firstRun();
    await api.relay.close();
    const client = open({ env: 'staging' });
    await expect(client.ready()).rejects.toThrow(
      /was written for env \(default\) and guild \(none\), not env staging and guild \(none\)/,
    );
  });
});
