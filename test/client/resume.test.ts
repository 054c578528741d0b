import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigClient, type ConfigChange } from '@config-bot/client';
import { Backoff } from '../../packages/client/src/client/backoff.js';
import { clientApi, isSnapshot, isStream, next, type ClientApi } from './real-api.js';

type Values = { MAX_BATCH_SIZE: number; AI_CONFIDENCE_THRESHOLD: number };

describe('ConfigClient reconnecting', () => {
  let api: ClientApi;
  let client: ConfigClient<Values>;
  let changes: ConfigChange<Values>[];

  beforeEach(async () => {
    api = await clientApi('client_resume');
    const opened = api.relay.next(isStream);
    client = new ConfigClient<Values>({
      url: api.relay.url,
      token: api.token,
      keys: ['MAX_BATCH_SIZE', 'AI_CONFIDENCE_THRESHOLD'],
      reportIntervalMs: 60_000,
      backoff: { minMs: 5, maxMs: 50 },
    });
    changes = [];
    client.on('change', (change) => changes.push(change));
    client.on('warn', () => undefined);
    await client.ready();
    expect((await opened).lastEventId).toBe(String(api.seq));
  });

  afterEach(async () => {
    await client.close();
  });

  it('asks only for its keys', async () => {
    const opened = api.relay.next(isStream);
    api.relay.cut();
    expect((await opened).query.get('keys')).toBe('AI_CONFIDENCE_THRESHOLD,MAX_BATCH_SIZE');
  });

  it('reconnects after the stream is cut and resumes after the last event, each change once', async () => {
    let changed = next(client, 'change');
    const first = await api.set('MAX_BATCH_SIZE', 200);
    await changed;

    const disconnected = next(client, 'disconnected');
    const reopened = api.relay.next(isStream);
    api.relay.cut();
    await disconnected;
    changed = next(client, 'change');
    const second = await api.set('MAX_BATCH_SIZE', 300); // while the client may still be away
    expect((await reopened).lastEventId).toBe(String(first));
    await changed;

    // A server replaying events the client already applied: they are not applied again.
    api.relay.inject(api.relay.relayedEvent(first));
    api.relay.inject(api.relay.relayedEvent(second));
    changed = next(client, 'change');
    const third = await api.set('MAX_BATCH_SIZE', 400);
    await changed;

    expect(changes.map((c) => [c.seq, c.value])).toEqual([
      [first, 200],
      [second, 300],
      [third, 400],
    ]);
    expect(client.get('MAX_BATCH_SIZE')).toBe(400);
    expect(api.relay.requests.filter(isSnapshot)).toHaveLength(1);
  });

  it('resumes after the last checkpoint', async () => {
    // A change to a key the client does not follow reaches it as a checkpoint: only the position moves.
    const moved = await api.set('LOG_LEVEL', 'warn');
    await expect.poll(() => client.status().seq, { timeout: 10_000 }).toBe(moved);
    const reopened = api.relay.next(isStream);
    api.relay.cut();
    expect((await reopened).lastEventId).toBe(String(moved));
    expect(changes).toEqual([]);
  });

  it('fetches the snapshot again when the server no longer holds its position (resync)', async () => {
    await api.relay.close();
    const changed = await api.set('AI_CONFIDENCE_THRESHOLD', 0.9);
    const kept = await api.set('LOG_LEVEL', 'warn');
    // As ChangeLog.trim does once the log is long: entries up to the change above are gone, and an
    // API process started after that has only the stored log to resume from.
    await api.api.runtime.db.conn
      .collection('config_changes')
      .deleteMany({ _id: { $lte: changed } as never });
    const later = await api.another('client_resume_later');
    api.relay.retarget(later.url);

    const refetched = api.relay.next(isSnapshot);
    const resynced = next<ConfigChange<Values>>(client, 'change');
    await api.relay.open();
    await refetched;
    expect(await resynced).toMatchObject({
      key: 'AI_CONFIDENCE_THRESHOLD',
      value: 0.9,
      previous: 0.85,
      action: 'resync',
      scope: 'resync',
      seq: kept,
    });
    // And it follows on from the snapshot's position.
    const reopened = api.relay.next(isStream);
    expect((await reopened).lastEventId).toBe(String(kept));
    expect(changes).toHaveLength(1);
  });
});

describe('ConfigClient and a server that always asks for a resync', () => {
  it('backs off instead of refetching the snapshot in a loop', async () => {
    const api = await clientApi('client_resume_loop');
    // Snapshots that claim a position the API has not reached: the API then answers every stream
    // opened from it with a resync, the very moment after each snapshot.
    api.relay.rewrite(isSnapshot, (body) => ({ ...body, seq: Number(body.seq) + 1_000_000 }));
    const client = new ConfigClient({ url: api.relay.url, token: api.token, reportIntervalMs: 60_000 });
    try {
      const warned = next<string>(client, 'warn');
      await client.ready();
      expect(await warned).toBe(
        'Lost the configuration API (the server asked for a resync right after a snapshot); values in memory stay in force, reconnecting',
      );
    } finally {
      await client.close();
    }
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
