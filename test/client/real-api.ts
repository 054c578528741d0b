import { randomBytes } from 'node:crypto';
import { once, type EventEmitter } from 'node:events';
import { expect, onTestFinished } from 'vitest';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { Relay } from './relay.js';

/** What EXPORT_WEBHOOK_URL (the shipped sensitive key) holds in these tests. */
export const SECRET = 'https://hooks.example/secret-path-123';

export interface ClientApi {
  api: TestApi;
  /** The relay in front of the API: the address clients are given. */
  relay: Relay;
  /** A read token that may see sensitive values. */
  token: string;
  /** The stream position once set up (the last change made). */
  seq: number;
  /** Sets a key through the API; resolves with the change's position in the stream. */
  set(key: string, value: unknown, scope?: string): Promise<number>;
  /** Another API process over the same database (stopped when the test ends). */
  another(label: string): Promise<TestApi>;
}

/**
 * The real API (runtime and HTTP server, in this process) over a database of the test's own, with
 * the shipped keys, EXPORT_WEBHOOK_URL set to SECRET, and a relay in front (closed when the test
 * ends).
 */
export async function clientApi(label: string): Promise<ClientApi> {
  // The sensitive key can only be stored encrypted.
  const vars = { CONFIG_ENCRYPTION_KEYS: randomBytes(32).toString('base64') };
  const api = await startTestApi(label, { vars });
  const relay = await Relay.start(api.url);
  onTestFinished(() => relay.close());
  const writer = await api.token('write', { sensitive: true });
  const set = async (key: string, value: unknown, scope?: string): Promise<number> => {
    const res = await api.call(`/v1/config/${key}`, {
      method: 'PUT',
      token: writer,
      json: { value, ...(scope ? { scope } : {}) },
    });
    const body = (await res.json()) as { seq?: number | null; error?: { message: string } };
    if (!res.ok || typeof body.seq !== 'number') throw new Error(`PUT ${key}: ${JSON.stringify(body)}`);
    return body.seq;
  };
  const seq = await set('EXPORT_WEBHOOK_URL', SECRET);
  const token = await api.token('read', { sensitive: true });
  // The API follows its own commits a moment later: tests start clients once its snapshots include it.
  await expect
    .poll(async () => ((await (await api.call('/v1/config', { token })).json()) as { seq: number }).seq)
    .toBe(seq);
  return {
    api,
    relay,
    token,
    seq,
    set,
    another: (other) => startTestApi(other, { vars, dbName: api.env.MONGODB_DB_NAME }),
  };
}

/** Resolves with the next emission of `event`. */
export async function next<T>(emitter: EventEmitter, event: string): Promise<T> {
  const [value] = (await once(emitter, event)) as [T];
  return value;
}

/** A request to the event stream. */
export const isStream = (r: { method: string; path: string }): boolean =>
  r.method === 'GET' && r.path === '/v1/events';
/** A request for the snapshot. */
export const isSnapshot = (r: { method: string; path: string }): boolean =>
  r.method === 'GET' && r.path === '/v1/config';
