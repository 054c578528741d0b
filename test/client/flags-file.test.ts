import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient } from '@config-bot/client';
import { startTestApi } from '../helpers/api.js';
import { actor } from '../helpers/db.js';

const base = { description: 'A flag under test', type: 'release' as const, owner: 'payments' };

describe('ConfigClient flags in the last-known-good file', () => {
  let dir: string;
  let cacheFile: string;
  const clients: ConfigClient[] = [];

  const open = (url: string, token: string): ConfigClient => {
    const client = new ConfigClient({
      url,
      token,
      env: 'production',
      cacheFile,
      reportIntervalMs: 60_000,
      backoff: { minMs: 50, maxMs: 200 },
    });
    client.on('warn', () => undefined);
    clients.push(client);
    return client;
  };

  /** A run against the real API leaves the file; then the API goes away. */
  const firstRun = async (): Promise<{ url: string; token: string }> => {
    const api = await startTestApi('client_flags_file');
    await api.runtime.flags.create(
      { ...base, name: 'dark-mode', enabled: true, environments: ['production'], rollout: 50 },
      actor(),
    );
    await api.runtime.flags.create(
      { ...base, name: 'everyone', enabled: true, environments: ['production'] },
      actor(),
    );
    const token = await api.token('read');
    const client = open(api.url, token);
    await client.ready();
    await client.close();
    await api.stop();
    return { url: api.url, token };
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'config-client-flags-'));
    cacheFile = path.join(dir, 'config.json');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('starts with its flags from the file while the API is down, answering as before', async () => {
    const { url, token } = await firstRun();
    const content = JSON.parse(await readFile(cacheFile, 'utf8')) as {
      flags: { environment: string; items: unknown[] };
    };
    expect(content.flags.environment).toBe('production');
    expect(content.flags.items).toHaveLength(2);
    const client = open(url, token);
    await client.ready();
    expect(client.status()).toMatchObject({ source: 'last-known-good', flags: 2 });
    expect(client.isEnabled('everyone')).toBe(true);
    const answers = Array.from({ length: 200 }, (_, i) => client.isEnabled('dark-mode', { userId: `u${i}` }));
    expect(answers.filter(Boolean).length).toBeGreaterThan(50);
    expect(answers.filter(Boolean).length).toBeLessThan(150);
    expect(client.explainFlag('dark-mode', { userId: 'u1' }).reason).toMatch(/^rollout_(in|out)$/);
  });

  it('still starts from a file written before flags (no `flags` field): values served, every flag off', async () => {
    const { url, token } = await firstRun();
    const content = JSON.parse(await readFile(cacheFile, 'utf8')) as Record<string, unknown>;
    delete content.flags;
    await writeFile(cacheFile, JSON.stringify(content));
    const client = open(url, token);
    await client.ready();
    expect(client.status()).toMatchObject({ source: 'last-known-good', flags: 0 });
    expect(client.get('MAX_BATCH_SIZE')).toBeTypeOf('number');
    expect(client.isEnabled('everyone')).toBe(false);
  });

  it('refuses a file whose flags are damaged, naming the field', async () => {
    const { url, token } = await firstRun();
    const content = JSON.parse(await readFile(cacheFile, 'utf8')) as {
      flags: { items: Record<string, unknown>[] };
    };
    (content.flags.items[0] as Record<string, unknown>).rollout = 250;
    await writeFile(cacheFile, JSON.stringify(content));
    const client = open(url, token);
    await expect(client.ready()).rejects.toThrow(
      /flags\.items\[0\]` is not a flag \(flag dark-mode: rollout: must be from 0 to 100\)/,
    );
  });
});
