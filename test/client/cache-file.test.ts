import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient, type ConfigChange, type ConfigClientOptions } from '@config-bot/client';
import { Relay } from './relay.js';
import { clientApi, isSnapshot, isStream, next, type ClientApi } from './real-api.js';

type Values = { MAX_BATCH_SIZE: number };
type Content = Record<string, unknown> & { values: Record<string, Record<string, unknown>> };

/** Last-known-good files the client must not take as they are: damaged, or written for another. */
describe('ConfigClient and a last-known-good file it cannot use as is', () => {
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
    clients.push(client);
    return client;
  };

  /** Opens a client and collects its warnings. */
  const watched = (extra: Partial<ConfigClientOptions> = {}): [ConfigClient<Values>, string[]] => {
    const client = open(extra);
    const warnings: string[] = [];
    client.on('warn', (message) => warnings.push(message));
    return [client, warnings];
  };

  /** A first run against the API leaves the file (close() writes it one last time). */
  const firstRun = async (extra: Partial<ConfigClientOptions> = {}): Promise<void> => {
    const client = open(extra);
    await client.ready();
    await client.close();
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'config-client-'));
    cacheFile = path.join(dir, 'config.json');
    api = await clientApi('client_cache_file');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await rm(dir, { recursive: true, force: true });
  });

  describe('a damaged file', () => {
    const damaged = async (damage: (content: Content) => void): Promise<string> => {
      await firstRun();
      const content = JSON.parse(await readFile(cacheFile, 'utf8')) as Content;
      damage(content);
      return JSON.stringify(content);
    };

    it.each<[string, () => Promise<string>, string]>([
      [
        'with only some fields',
        async () => '{"format":1,"seq":1,"salt":"AAAA","values":{}}',
        '`writtenAt` is not a date; `request` is not { env, guild, keys }; `api` is not a URL; and 2 more',
      ],
      ['without `request`', () => damaged((c) => delete c.request), '`request` is not { env, guild, keys }'],
      [
        'with a bad `writtenAt`',
        () => damaged((c) => (c.writtenAt = 'yesterday')),
        '`writtenAt` is not a date',
      ],
      [
        'with a value without its version',
        () => damaged((c) => delete c.values.MAX_BATCH_SIZE?.version),
        '`values.MAX_BATCH_SIZE` has no whole `version`',
      ],
      ['holding null', async () => 'null', 'not a JSON object'],
    ])('is unreadable when %s: one warning, and ready() rejects in one line', async (_, text, problem) => {
      await writeFile(cacheFile, await text());
      await api.relay.close();
      const [client, warnings] = watched();
      const err = (await client.ready().catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/^Cannot reach the configuration API at /);
      expect(err.message).toContain(
        `and the last-known-good file ${cacheFile} is unreadable (${problem}): start the API or fix the url`,
      );
      expect(err.message).not.toContain('\n');
      expect(warnings).toEqual([`Ignored the last-known-good file ${cacheFile}: ${problem}`]);
    });
  });

  describe('a file written for another token or API: served while the API is down, then replaced', () => {
    it('by a fresh snapshot once the API answers, for a file of another token', async () => {
      // Tokens that may not see the sensitive key: a sealed value alone would already ask for a snapshot.
      await firstRun({ token: await api.api.token('read') });
      await api.relay.close();
      const seq = await api.set('MAX_BATCH_SIZE', 777); // made while the client could not hear it

      const [client, warnings] = watched({ token: await api.api.token('read') });
      await client.ready();
      expect(client.get('MAX_BATCH_SIZE')).toBe(100);
      expect(warnings).toContain(
        `The last-known-good file ${cacheFile} was written under another token: serving its values until the API answers, then loading a fresh snapshot instead of resuming from its position`,
      );

      const changed = next<ConfigChange<Values>>(client, 'change');
      const opened = api.relay.next(isStream);
      await api.relay.open();
      expect(await changed).toMatchObject({ key: 'MAX_BATCH_SIZE', value: 777, action: 'resync' });
      expect((await opened).lastEventId).toBe(String(seq));
      expect(api.relay.requests.filter(isSnapshot)).toHaveLength(2);
    });

    it('by a fresh snapshot once the API answers, for a file of another API', async () => {
      await firstRun();
      // The same API at another address is another API to the client: it knows APIs by their URL.
      const other = await Relay.start(api.api.url);
      await other.close();
      await api.relay.close();
      const seq = await api.set('MAX_BATCH_SIZE', 777);

      const [client, warnings] = watched({ url: other.url });
      await client.ready();
      expect(warnings).toContain(
        `The last-known-good file ${cacheFile} was written for the API at ${api.relay.url}/: serving its values until the API answers, then loading a fresh snapshot instead of resuming from its position`,
      );
      const opened = other.next(isStream);
      await other.open();
      try {
        expect((await opened).lastEventId).toBe(String(seq));
        expect(other.requests.filter(isSnapshot)).toHaveLength(1);
        expect(client.get('MAX_BATCH_SIZE')).toBe(777);
      } finally {
        await client.close();
        await other.close();
      }
    });
  });

  it("serves a file of the server's default environment to a client naming that environment", async () => {
    await firstRun();
    await api.relay.close();
    const [client, warnings] = watched({ env: 'production' });
    await client.ready();
    expect(client.status().source).toBe('last-known-good');
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
    expect(warnings).toHaveLength(1);
  });
});
