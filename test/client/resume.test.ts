import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Backoff } from '../../src/client/backoff.js';
import { ConfigClient, type ConfigChange } from '../../src/client/index.js';
import { FakeApi, next, shippedValues, TOKEN, type StreamOpened } from './fake-api.js';

type Values = { MAX_BATCH_SIZE: number; AI_CONFIDENCE_THRESHOLD: number };

describe('ConfigClient reconnecting', () => {
  let api: FakeApi;
  let client: ConfigClient<Values>;
  let changes: ConfigChange<Values>[];

  beforeEach(async () => {
    api = await new FakeApi(shippedValues()).start();
    const opened = next<StreamOpened>(api.events, 'stream');
    client = new ConfigClient<Values>({
      url: api.url,
      token: TOKEN,
      keys: ['MAX_BATCH_SIZE', 'AI_CONFIDENCE_THRESHOLD'],
      reportIntervalMs: 60_000,
      backoff: { minMs: 5, maxMs: 50 },
    });
    changes = [];
    client.on('change', (change) => changes.push(change));
    client.on('warn', () => undefined);
    await client.ready();
    expect((await opened).lastEventId).toBe('10');
  });

  afterEach(async () => {
    await client.close();
    await api.stop();
  });

  it('asks only for its keys', async () => {
    const opened = next<StreamOpened>(api.events, 'stream');
    api.dropStreams();
    expect((await opened).query.get('keys')).toBe('AI_CONFIDENCE_THRESHOLD,MAX_BATCH_SIZE');
  });

  it('reconnects after the stream is cut and resumes after the last event, each change once', async () => {
    let changed = next(client, 'change');
    api.change('MAX_BATCH_SIZE', 200);
    await changed;

    const disconnected = next(client, 'disconnected');
    api.dropStreams();
    await disconnected;
    api.change('MAX_BATCH_SIZE', 300); // while the client is away

    const reopened = next<StreamOpened>(api.events, 'stream');
    changed = next(client, 'change');
    const connected = next(client, 'connected');
    expect((await reopened).lastEventId).toBe('11');
    await changed;
    await connected;

    api.replay(11);
    api.replay(12);
    changed = next(client, 'change');
    api.change('MAX_BATCH_SIZE', 400);
    await changed;

    expect(changes.map((c) => [c.seq, c.value])).toEqual([
      [11, 200],
      [12, 300],
      [13, 400],
    ]);
    expect(client.get('MAX_BATCH_SIZE')).toBe(400);
    expect(api.snapshotQueries).toHaveLength(1);
  });

  it('resumes after the last checkpoint', async () => {
    const moved = api.checkpoint();
    await expect.poll(() => client.status().seq, { timeout: 10_000 }).toBe(moved);
    const reopened = next<StreamOpened>(api.events, 'stream');
    api.dropStreams();
    expect((await reopened).lastEventId).toBe(String(moved));
    expect(changes).toEqual([]);
  });

  it('fetches the snapshot again when the server no longer holds its position (resync)', async () => {
    const disconnected = next(client, 'disconnected');
    api.dropStreams();
    await disconnected;
    api.change('AI_CONFIDENCE_THRESHOLD', 0.9);
    api.retainedAfter = api.seq;

    const refetched = next(api.events, 'snapshot');
    const changed = next<ConfigChange<Values>>(client, 'change');
    await refetched;
    expect(await changed).toMatchObject({
      key: 'AI_CONFIDENCE_THRESHOLD',
      value: 0.9,
      previous: 0.85,
      action: 'resync',
      scope: 'resync',
      seq: 11,
    });
    // And it follows on from the snapshot's position.
    const reopened = next<StreamOpened>(api.events, 'stream');
    expect((await reopened).lastEventId).toBe('11');
    expect(changes).toHaveLength(1);
  });
});

describe('ConfigClient and a server that always asks for a resync', () => {
  it('backs off instead of refetching the snapshot in a loop', async () => {
    const api = await new FakeApi(shippedValues()).start();
    const client = new ConfigClient({ url: api.url, token: TOKEN, reportIntervalMs: 60_000 });
    const warned = next<string>(client, 'warn');
    api.retainedAfter = Number.MAX_SAFE_INTEGER;
    await client.ready();
    expect(await warned).toBe(
      'Lost the configuration API (the server asked for a resync right after a snapshot); values in memory stay in force, reconnecting',
    );
    await client.close();
    await api.stop();
  });
});

describe('Backoff', () => {
  it('draws full jitter under a doubling cap, and starts small again after a reset', () => {
    const top = new Backoff(500, 30_000, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => top.next())).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    top.reset();
    expect(top.next()).toBe(500);
    expect(new Backoff(500, 30_000, () => 0).next()).toBe(0);
  });
});
