import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { openEvents, type SseEvent, type SseStream } from '../helpers/sse.js';

const HOOK = 'https://hooks.example.com/secret-path-123';

const json = async (res: Response) => (await res.json()) as Record<string, unknown>;
const put = (api: TestApi, token: string, json: unknown, key = 'EXPORT_WEBHOOK_URL') =>
  api.call(`/v1/config/${key}`, { method: 'PUT', token, json });

describe('masking is one rule in every answer', () => {
  it('shows a hidden sensitive value as null with masked: true in reads, history, writes, layers and events', async () => {
    const api = await startTestApi('masking_one_rule', {
      vars: { CONFIG_ENCRYPTION_KEYS: randomBytes(32).toString('base64') },
    });
    const writer = await api.token('write');
    const stream = await openEvents(`${api.url}/v1/events?keys=EXPORT_WEBHOOK_URL`, {
      authorization: `Bearer ${writer}`,
    });
    const written = await json(await put(api, writer, { value: HOOK }));
    const read = await json(await api.call('/v1/config/EXPORT_WEBHOOK_URL', { token: writer }));
    const history = await json(await api.call('/v1/config/EXPORT_WEBHOOK_URL/history', { token: writer }));
    const event = await stream.next((e) => e.event === 'change', 'the change');
    const all = JSON.stringify([written, read, history, event.data]);
    expect(all).not.toContain('secret-path');
    expect(all).not.toContain('••••••');
    const hidden = { value: null, masked: true };
    expect(written).toMatchObject(hidden);
    expect(read).toMatchObject(hidden);
    expect((history.versions as unknown[])[0]).toMatchObject({ version: 2, ...hidden });
    expect((read.layers as Record<string, unknown>[]).find((l) => l.scope === 'global')).toMatchObject({
      display: null,
      masked: true,
    });
    expect(event.data).toMatchObject({ ...hidden, change: hidden });
    // A token created to see sensitive values sees it in each of them.
    const trusted = await api.token('read', { sensitive: true });
    const clear = await json(await api.call('/v1/config/EXPORT_WEBHOOK_URL/history', { token: trusted }));
    expect((clear.versions as unknown[])[0]).toMatchObject({ version: 2, value: HOOK });
  });

  it('unsets an optional key with value null, and refuses null for a key that needs a value', async () => {
    const api = await startTestApi('masking_null', {
      vars: { CONFIG_ENCRYPTION_KEYS: randomBytes(32).toString('base64') },
    });
    const writer = await api.token('write');
    expect((await put(api, writer, { value: HOOK })).status).toBe(200);
    const unset = await put(api, writer, { value: null, reason: 'no more webhook' });
    expect(unset.status).toBe(200);
    expect(await json(unset)).toMatchObject({ status: 'committed', value: null, version: 3 });
    expect(api.runtime.config.get('EXPORT_WEBHOOK_URL')).toBeNull();
    const again = await put(api, writer, { value: null });
    expect(await json(again)).toMatchObject({ status: 'unchanged' });

    const refused = await put(api, writer, { value: null }, 'MAX_BATCH_SIZE');
    expect(refused.status).toBe(400);
    expect(((await json(refused)).error as { message: string }).message).toMatch(
      /^MAX_BATCH_SIZE needs a value .*null only unsets keys that may be unset/,
    );
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(100);
  });
});

const KEY = 'EXPORT_WEBHOOK_URL';
const HOOK1 = 'https://hooks.example.com/secret-path-1';
const HOOK2 = 'https://hooks.example.com/secret-path-2';
/** What each version of the key holds in the test below (version 1 is the default, none). */
const HELD: Record<number, string | null> = { 1: null, 2: HOOK1, 3: HOOK2, 4: HOOK1, 5: HOOK2 };

interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown>;
}

/**
 * Every answer a token gets, kept with its text: a token without `sensitive` must find the secret
 * in none of them, whichever route answered and whether anything changed.
 */
function client(api: TestApi, token: string) {
  const answers: Answer[] = [];
  const send = async (path: string, init: { method?: string; json?: unknown } = {}) => {
    const res = await api.call(path, { ...init, token });
    const text = await res.text();
    const answer = { status: res.status, text, body: JSON.parse(text) as Record<string, unknown> };
    answers.push(answer);
    return answer;
  };
  return {
    answers,
    put: (value: unknown) => send(`/v1/config/${KEY}`, { method: 'PUT', json: { value } }),
    rollback: (version: number) => send(`/v1/config/${KEY}/rollback`, { method: 'POST', json: { version } }),
    reset: () => send(`/v1/config/${KEY}/reset`, { method: 'POST', json: {} }),
    snapshot: async () =>
      (((await send('/v1/config')).body.values as Record<string, unknown>)[KEY] ?? {}) as object,
    read: () => send(`/v1/config/${KEY}`),
    history: () => send(`/v1/config/${KEY}/history`),
  };
}

/** A change event of the key at `version`, from a stream. */
const changeOf = (stream: SseStream, version: number): Promise<SseEvent> =>
  stream.next((e) => e.event === 'change' && e.data.key === KEY && e.data.version === version, `v${version}`);

describe('masking in every answer, unchanged ones included', () => {
  it('hides a secret from a token without sensitive, and shows it to one with it, in writes, rollbacks, resets, reads, history and events', async () => {
    const api = await startTestApi('masking_every_answer', {
      vars: { CONFIG_ENCRYPTION_KEYS: randomBytes(32).toString('base64') },
    });
    const plainToken = await api.token('write');
    const trustedToken = await api.token('write', { sensitive: true });
    const plain = client(api, plainToken);
    const trusted = client(api, trustedToken);
    const events = `${api.url}/v1/events?keys=${KEY}&flags=false`;
    const live = {
      plain: await openEvents(events, { authorization: `Bearer ${plainToken}` }),
      trusted: await openEvents(events, { authorization: `Bearer ${trustedToken}` }),
    };
    const hidden = { value: null, masked: true };
    const clear = (value: string | null) => ({ value });
    const committed = (version: number) => ({ status: 'committed', version });
    const unchanged = (version: number) => ({ status: 'unchanged', version });

    // Writes that commit, and the same writes again (nothing changes): each answer carries the
    // value the key holds.
    expect((await trusted.put(HOOK1)).body).toEqual(
      expect.objectContaining({ ...committed(2), ...clear(HOOK1) }),
    );
    expect((await plain.put(HOOK1)).body).toEqual(expect.objectContaining({ ...unchanged(2), ...hidden }));
    expect((await trusted.put(HOOK1)).body).toEqual(
      expect.objectContaining({ ...unchanged(2), ...clear(HOOK1) }),
    );
    expect((await plain.put(HOOK2)).body).toEqual(expect.objectContaining({ ...committed(3), ...hidden }));
    expect((await plain.rollback(3)).body).toEqual(expect.objectContaining({ ...unchanged(3), ...hidden }));
    expect((await trusted.rollback(3)).body).toEqual(
      expect.objectContaining({ ...unchanged(3), ...clear(HOOK2) }),
    );
    expect((await plain.rollback(2)).body).toEqual(expect.objectContaining({ ...committed(4), ...hidden }));
    expect((await trusted.rollback(2)).body).toEqual(
      expect.objectContaining({ ...unchanged(4), ...clear(HOOK1) }),
    );
    expect((await trusted.rollback(3)).body).toEqual(
      expect.objectContaining({ ...committed(5), ...clear(HOOK2) }),
    );
    expect((await plain.put(HOOK2)).body).toEqual(expect.objectContaining({ ...unchanged(5), ...hidden }));

    // Reads: the snapshot, the key, its history.
    expect(await plain.snapshot()).toMatchObject({ ...hidden, version: 5, sensitive: true });
    expect(await trusted.snapshot()).toMatchObject({ ...clear(HOOK2), version: 5, sensitive: true });
    expect((await plain.read()).body).toMatchObject({ ...hidden, version: 5 });
    expect((await trusted.read()).body).toMatchObject({ ...clear(HOOK2), version: 5 });
    const versions = (a: Answer) => a.body.versions as Record<string, unknown>[];
    const plainHistory = versions(await plain.history());
    const trustedHistory = versions(await trusted.history());
    expect(plainHistory.map((v) => v.version)).toEqual([5, 4, 3, 2, 1]);
    for (const v of plainHistory) expect(v).toMatchObject(HELD[v.version as number] ? hidden : clear(null));
    for (const v of trustedHistory) expect(v).toMatchObject(clear(HELD[v.version as number] ?? null));

    // Events, live and replayed from the start of the log.
    const replay = `${events}&lastEventId=0`;
    const replayed = {
      plain: await openEvents(replay, { authorization: `Bearer ${plainToken}` }),
      trusted: await openEvents(replay, { authorization: `Bearer ${trustedToken}` }),
    };
    for (const stream of [live.plain, replayed.plain])
      for (const version of [2, 3, 4, 5])
        expect((await changeOf(stream, version)).data).toMatchObject({ ...hidden, change: hidden });
    for (const stream of [live.trusted, replayed.trusted])
      for (const version of [2, 3, 4, 5]) {
        const value = HELD[version] ?? null;
        expect((await changeOf(stream, version)).data).toMatchObject({ value, change: { value } });
      }

    // Back to the default (no value): nothing left to hide, and nothing said about the old one.
    expect((await plain.reset()).body).toEqual(expect.objectContaining({ ...committed(6), value: null }));
    expect((await plain.reset()).body).toEqual(expect.objectContaining({ ...unchanged(6), value: null }));
    expect((await trusted.reset()).body).toEqual(expect.objectContaining({ ...unchanged(6), value: null }));
    expect((await plain.put(null)).body).toEqual(expect.objectContaining({ ...unchanged(6), value: null }));

    for (const a of plain.answers) expect(a.status).toBe(200);
    for (const a of trusted.answers) expect(a.status).toBe(200);
    const seenByPlain = [
      ...plain.answers.map((a) => a.text),
      ...[live.plain, replayed.plain].flatMap((s) => s.events.map((e) => JSON.stringify(e.data))),
    ].join('\n');
    expect(seenByPlain).not.toContain('secret-path');
    for (const a of plain.answers.filter((x) => x.body.masked))
      expect(a.body).not.toHaveProperty('undecryptable');
    for (const a of trusted.answers) expect(a.body).not.toHaveProperty('masked');
  });

  it('shows the secret to no token in a write held for approval, nor in a refusal of a bad value', async () => {
    const api = await startTestApi('masking_approval', {
      vars: { CONFIG_ENCRYPTION_KEYS: randomBytes(32).toString('base64'), APPROVALS_REQUIRED: 'medium:1' },
    });
    for (const sensitive of [false, true]) {
      const token = await api.token('write', { sensitive });
      const held = await put(api, token, { value: `${HOOK1}-${sensitive}` });
      expect(held.status).toBe(202);
      const heldText = await held.text();
      expect(JSON.parse(heldText)).toMatchObject({ status: 'approval-required' });
      expect(heldText).not.toContain('secret-path');
      const refused = await put(api, token, { value: 'http://hooks.example.com/secret-path-insecure' });
      expect(refused.status).toBe(400);
      expect(await refused.text()).not.toContain('secret-path');
    }
  });
});
