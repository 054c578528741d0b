import { describe, expect, it } from 'vitest';
import { actor, uniqueDbName } from '../helpers/db.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { openEvents, type SseEvent } from '../helpers/sse.js';

const admin = actor();

const events = (api: TestApi, token: string, query = '', headers: Record<string, string> = {}) =>
  openEvents(`${api.url}/v1/events${query}`, { authorization: `Bearer ${token}`, ...headers });

/** Sets a value in the serving process, as any writer would; returns its change-log position. */
async function change(api: TestApi, key: string, value: string, scope?: string): Promise<number> {
  const done = await api.runtime.config.set(key, value, admin, undefined, {}, scope ? { scope } : {});
  expect(done.seq).toEqual(expect.any(Number));
  return done.seq ?? -1;
}

const changeAt = (seq: number) => (e: SseEvent) => e.event === 'change' && e.id === String(seq);
const ids = (list: SseEvent[], type = 'change') =>
  list.filter((e) => e.event === type).map((e) => Number(e.id));

describe('GET /v1/events', () => {
  it('sends a committed change as a change event whose id is its seq, with the resolved value', async () => {
    const api = await startTestApi('events_change');
    const stream = await events(api, await api.token('read'));
    expect(stream.status).toBe(200);
    const seq = await change(api, 'MAX_BATCH_SIZE', '300');
    const e = await stream.next(changeAt(seq), `change ${seq}`);
    expect(e.data).toMatchObject({
      seq,
      key: 'MAX_BATCH_SIZE',
      scope: 'global',
      version: 2,
      action: 'set',
      actor: admin,
      value: 300,
      layer: 'global',
      sensitive: false,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('moves a key-filtered stream with a checkpoint for another key’s change', async () => {
    const api = await startTestApi('events_filtered');
    const stream = await events(api, await api.token('read'), '?keys=AI_CONFIDENCE_THRESHOLD');
    const other = await change(api, 'MAX_BATCH_SIZE', '300');
    const checkpoint = await stream.next(
      (e) => e.event === 'checkpoint' && e.id === String(other),
      'checkpoint',
    );
    expect(checkpoint.data).toEqual({ seq: other });
    const own = await change(api, 'AI_CONFIDENCE_THRESHOLD', '0.9');
    expect((await stream.next(changeAt(own), 'own change')).data).toMatchObject({ value: 0.9 });
    expect(stream.events.filter((e) => e.event === 'change').map((e) => e.data.key)).toEqual([
      'AI_CONFIDENCE_THRESHOLD',
    ]);
  });

  it('resumes from Last-Event-ID with exactly the missed changes, in order, once', async () => {
    const api = await startTestApi('events_resume');
    const token = await api.token('read');
    const first = await events(api, token);
    const seen = await change(api, 'MAX_BATCH_SIZE', '201');
    await first.next(changeAt(seen));
    // The client applied up to `seen`; whatever this stream brings after that, it resumes from there.
    const missed = [
      await change(api, 'MAX_BATCH_SIZE', '202'),
      await change(api, 'LOG_LEVEL', 'debug'),
      await change(api, 'MAX_BATCH_SIZE', '203', 'env:production'),
    ];

    const resumed = await events(api, token, '', { 'last-event-id': String(seen) });
    await resumed.next(changeAt(missed[2] ?? -1), 'the last missed change');
    const later = await change(api, 'MAX_BATCH_SIZE', '204');
    await resumed.next(changeAt(later), 'a change after the resume');
    expect(ids(resumed.events)).toEqual([...missed, later]);
    expect(resumed.events.map((e) => [e.data.key, e.data.scope, e.data.version])).toEqual([
      ['MAX_BATCH_SIZE', 'global', 3],
      ['LOG_LEVEL', 'global', 2],
      ['MAX_BATCH_SIZE', 'env:production', 1],
      ['MAX_BATCH_SIZE', 'global', 4],
    ]);
    // `value` is what the key resolves to when the event is sent: production keeps its override.
    expect(resumed.events.at(-1)?.data).toMatchObject({ value: 203, layer: 'env:production' });
  });

  it('replays each missed change with the value of the version it announces, as of its own position', async () => {
    const api = await startTestApi('events_replay_values');
    const token = await api.token('read');
    const from = api.runtime.feed.position;
    const a = await change(api, 'MAX_BATCH_SIZE', '333');
    const b = await change(api, 'MAX_BATCH_SIZE', '444');
    const override = await change(api, 'MAX_BATCH_SIZE', '555', 'env:production');
    const underneath = await change(api, 'MAX_BATCH_SIZE', '666');
    const unset = (
      await api.runtime.config.reset('MAX_BATCH_SIZE', admin, undefined, {}, { scope: 'env:production' })
    ).seq;

    const resumed = await events(api, token, '', { 'last-event-id': String(from) });
    await resumed.next(changeAt(unset ?? -1), 'the unset');
    const data = resumed.events.filter((e) => e.event === 'change').map((e) => e.data);
    expect(data.map((d) => d.seq)).toEqual([a, b, override, underneath, unset]);
    expect(data.map((d) => [d.version, d.change, d.value, d.layer, d.layerVersion])).toEqual([
      [2, { value: 333 }, 333, 'global', 2],
      [3, { value: 444 }, 444, 'global', 3],
      [1, { value: 555 }, 555, 'env:production', 1],
      // A global change under production's override: production still reads the override.
      [4, { value: 666 }, 555, 'env:production', 1],
      // The override removed: production reads the global value again.
      [2, { value: null, unset: true }, 666, 'global', 4],
    ]);
    // A live stream says the same of a new change.
    const live = await events(api, token);
    const c = await change(api, 'MAX_BATCH_SIZE', '777');
    expect((await live.next(changeAt(c))).data).toMatchObject({
      version: 5,
      change: { value: 777 },
      value: 777,
      layerVersion: 5,
    });
  });

  it('resumes with ?lastEventId= too', async () => {
    const api = await startTestApi('events_resume_query');
    const token = await api.token('read');
    const before = api.runtime.feed.position;
    const missed = await change(api, 'MAX_BATCH_SIZE', '205');
    const resumed = await events(api, token, `?lastEventId=${before}`);
    await resumed.next(changeAt(missed));
    expect(ids(resumed.events)).toEqual([missed]);
  });

  it('resumes across a restart of the serving process, from the stored change log', async () => {
    const dbName = uniqueDbName('events_restart');
    const one = await startTestApi('events_restart_1', { dbName });
    const token = await one.token('read');
    const stream = await events(one, token);
    const seen = await change(one, 'MAX_BATCH_SIZE', '301');
    await stream.next(changeAt(seen));
    const missed = [await change(one, 'MAX_BATCH_SIZE', '302'), await change(one, 'LOG_LEVEL', 'warn')];
    // The serving process stops (ending the stream) before the client applied what followed `seen`.
    await one.stop();
    await expect(stream.next(() => false, 'the end of the stream')).rejects.toThrow(/the stream ended/);

    const two = await startTestApi('events_restart_2', { dbName });
    const resumed = await events(two, token, '', { 'last-event-id': String(seen) });
    await resumed.next(changeAt(missed[1] ?? -1), 'the missed changes');
    const later = await change(two, 'MAX_BATCH_SIZE', '303');
    await resumed.next(changeAt(later), 'a change on the new process');
    expect(ids(resumed.events)).toEqual([...missed, later]);
    expect(resumed.events.map((e) => e.data.value)).toEqual([302, 'warn', 303]);
    expect(ids(resumed.events, 'resync')).toEqual([]);
  });

  it('moves past changes of a key this release does not know (written by another release), live and on resume', async () => {
    const api = await startTestApi('events_foreign');
    const token = await api.token('read');
    const live = await events(api, token);
    const before = await change(api, 'MAX_BATCH_SIZE', '311');
    await live.next(changeAt(before));
    // Another release's process commits a key this one lacks: its version, then its log entry.
    const conn = api.runtime.config.conn;
    await conn.collection('config_versions').insertOne({
      _id: 'FUTURE_KEY@1',
      key: 'FUTURE_KEY',
      version: 1,
      value: 1,
      action: 'init',
      actor: admin,
      createdAt: new Date(),
    } as never);
    const foreign = await api.runtime.config.changes.append('FUTURE_KEY', 1);
    const after = await change(api, 'MAX_BATCH_SIZE', '312');
    await live.next(changeAt(after), 'the change after the foreign one');
    expect(ids(live.events)).toEqual([before, after]);
    expect(foreign).toBe(before + 1);

    const resumed = await events(api, token, '', { 'last-event-id': String(before) });
    await resumed.next(changeAt(after), 'the change after the foreign one, on resume');
    expect(ids(resumed.events)).toEqual([after]);
  });

  it('starts with resync for an id older than the retained log, then follows', async () => {
    const dbName = uniqueDbName('events_trimmed');
    const writer = await startTestApi('events_trimmed_w', { dbName });
    const old = await change(writer, 'MAX_BATCH_SIZE', '401');
    const kept = await change(writer, 'MAX_BATCH_SIZE', '402');
    // As ChangeLog.trim does once the log is long: entries up to and including `old` are gone.
    await writer.runtime.config.conn.collection('config_changes').deleteMany({ _id: { $lte: old } as never });

    // A process started after the trim has only the stored log to resume from.
    const reader = await startTestApi('events_trimmed_r', { dbName });
    const stream = await events(reader, await reader.token('read'), '', { 'last-event-id': String(old - 1) });
    const resync = await stream.next((e) => e.event === 'resync', 'resync');
    expect(resync.data).toEqual({ seq: reader.runtime.feed.position });
    expect(Number(resync.id)).toBeGreaterThanOrEqual(kept);
    const next = await change(reader, 'MAX_BATCH_SIZE', '403');
    await stream.next(changeAt(next));
    expect(ids(stream.events)).toEqual([next]);
  });

  it('starts with resync for an id from the future', async () => {
    const api = await startTestApi('events_future');
    const stream = await events(api, await api.token('read'), '', { 'last-event-id': '999999' });
    const resync = await stream.next((e) => e.event === 'resync', 'resync');
    expect(resync.data).toEqual({ seq: api.runtime.feed.position });
    expect(resync.id).toBe(String(api.runtime.feed.position));
    const next = await change(api, 'MAX_BATCH_SIZE', '404');
    await stream.next(changeAt(next));
    expect(ids(stream.events)).toEqual([next]);
  });

  it('shows an env-filtered stream its own environment’s changes, and another’s only as a checkpoint', async () => {
    const api = await startTestApi('events_env');
    const stream = await events(api, await api.token('read'), '?env=staging');
    const production = await change(api, 'MAX_BATCH_SIZE', '50', 'env:production');
    await stream.next((e) => e.event === 'checkpoint' && e.id === String(production), 'checkpoint');
    const staging = await change(api, 'MAX_BATCH_SIZE', '60', 'env:staging');
    expect((await stream.next(changeAt(staging))).data).toMatchObject({ value: 60, layer: 'env:staging' });
    const global = await change(api, 'MAX_BATCH_SIZE', '70');
    // The global layer moved; staging still sees its override.
    expect((await stream.next(changeAt(global))).data).toMatchObject({ scope: 'global', value: 60 });
    expect(ids(stream.events)).toEqual([staging, global]);
  });

  it('sends a heartbeat comment on an idle stream', async () => {
    const api = await startTestApi('events_heartbeat', { api: { heartbeatMs: 200 } });
    const stream = await events(api, await api.token('read'));
    expect(await stream.comment((c) => c === 'ping')).toBe('ping');
    expect(stream.events).toEqual([]);
  });

  it('refuses a Last-Event-ID that is not an event id with 400', async () => {
    const api = await startTestApi('events_bad_id');
    const token = await api.token('read');
    for (const [query, headers] of [
      ['', { 'last-event-id': 'abc' }],
      ['', { 'last-event-id': '-3' }],
      ['?lastEventId=1.5', {}],
    ] as const) {
      const res = await api.call(`/v1/events${query}`, { token, headers });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION');
    }
  });
});
