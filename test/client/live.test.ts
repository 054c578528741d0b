import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigClient, type ConfigChange } from '@config-bot/client';
import { clientApi, isSnapshot, isStream, next, SECRET, type ClientApi } from './real-api.js';

type Values = { MAX_BATCH_SIZE: number; AI_CONFIDENCE_THRESHOLD: number; EXPORT_WEBHOOK_URL: string | null };
type Change = ConfigChange<Values>;

describe('ConfigClient following live changes', () => {
  let api: ClientApi;
  let client: ConfigClient<Values>;

  beforeEach(async () => {
    api = await clientApi('client_live');
    const opened = api.relay.next(isStream);
    client = new ConfigClient<Values>({
      url: api.relay.url,
      token: api.token,
      env: 'production',
      reportIntervalMs: 60_000,
    });
    await client.ready();
    await opened;
  });

  afterEach(async () => {
    await client.close();
  });

  it('serves the snapshot from memory once ready', () => {
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
    expect(client.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.85);
    expect(client.getAll()).toMatchObject({
      MAX_BATCH_SIZE: 100,
      AI_CONFIDENCE_THRESHOLD: 0.85,
      EXPORT_WEBHOOK_URL: SECRET,
    });
    expect(client.status()).toMatchObject({ ready: true, source: 'api', seq: api.seq });
    expect(api.relay.requests.find(isSnapshot)?.query.get('env')).toBe('production');
  });

  it('applies a change from the stream and tells subscribers of that key only', async () => {
    const seen: Change[] = [];
    client.subscribe(['AI_CONFIDENCE_THRESHOLD'], (change) => void seen.push(change));
    const changed = next<Change>(client, 'change');
    const seq = await api.set('MAX_BATCH_SIZE', 250);
    const change = await changed;
    expect(change).toMatchObject({ key: 'MAX_BATCH_SIZE', value: 250, previous: 100, version: 2, seq });
    expect(change.actor).toMatchObject({ id: expect.stringMatching(/./) as unknown });
    expect(client.get('MAX_BATCH_SIZE')).toBe(250);
    expect(seen).toEqual([]);
  });

  it('stops calling a listener once unsubscribed', async () => {
    const seen: unknown[] = [];
    const unsubscribe = client.subscribe(['MAX_BATCH_SIZE'], (change) => void seen.push(change.value));
    let changed = next<Change>(client, 'change');
    await api.set('MAX_BATCH_SIZE', 300);
    await changed;
    unsubscribe();
    changed = next<Change>(client, 'change');
    await api.set('MAX_BATCH_SIZE', 400);
    await changed;
    expect(seen).toEqual([300]);
    expect(client.get('MAX_BATCH_SIZE')).toBe(400);
  });

  it('contains a throwing listener: reported as an error, other listeners and the client carry on', async () => {
    const seen: unknown[] = [];
    const errors: string[] = [];
    client.on('error', (err) => errors.push(err.message));
    client.subscribe(undefined, () => {
      throw new Error('boom');
    });
    client.subscribe(undefined, async () => {
      throw new Error('async boom');
    });
    client.subscribe(undefined, (change) => void seen.push(change.value));
    const failed = next<Error>(client, 'error');
    await api.set('AI_CONFIDENCE_THRESHOLD', 0.9);
    await failed;
    const changed = next<Change>(client, 'change');
    await api.set('AI_CONFIDENCE_THRESHOLD', 0.95);
    await changed;
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.95);
    expect(seen).toEqual([0.9, 0.95]);
    expect(errors).toEqual([
      'A configuration listener for AI_CONFIDENCE_THRESHOLD threw: boom',
      'A configuration listener for AI_CONFIDENCE_THRESHOLD threw: async boom',
      'A configuration listener for AI_CONFIDENCE_THRESHOLD threw: boom',
      'A configuration listener for AI_CONFIDENCE_THRESHOLD threw: async boom',
    ]);
  });

  it("reports an event handler that rejects as an error (the client's own work carries on)", async () => {
    client.on('change', async () => {
      throw new Error('async handler');
    });
    const failed = next<Error>(client, 'error');
    await api.set('MAX_BATCH_SIZE', 250);
    expect((await failed).message).toBe(
      "A handler of the configuration client's 'change' event rejected: async handler",
    );
    expect(client.get('MAX_BATCH_SIZE')).toBe(250);
  });

  it('turns an error handler that rejects into a process warning, not another error', async () => {
    const errors: Error[] = [];
    client.on('error', async (err) => {
      errors.push(err);
      throw new Error(`logger down (${err.message})`);
    });
    client.subscribe(undefined, () => {
      throw new Error('boom');
    });
    const warned = nextWarning('ConfigClientError');
    await api.set('MAX_BATCH_SIZE', 250);
    expect((await warned).message).toBe(
      "A handler of the configuration client's 'error' event rejected: logger down (A configuration listener for MAX_BATCH_SIZE threw: boom)",
    );
    expect(errors).toHaveLength(1);
  });

  it('skips an event whose data is not a change, with a warning, and still moves past it', async () => {
    const warnings: string[] = [];
    client.on('warn', (message) => warnings.push(message));
    // Two changes arrive garbled (a faulty server or proxy): no data at all, then no key.
    const logLevel = (data: string): boolean => (JSON.parse(data) as { key: string }).key === 'LOG_LEVEL';
    api.relay.garbleNext('change', 'null', logLevel);
    let warned = next(client, 'warn');
    const first = await api.set('LOG_LEVEL', 'warn');
    await warned;
    api.relay.garbleNext(
      'change',
      JSON.stringify({ scope: 'global', action: 'set', value: 5, version: 2 }),
      logLevel,
    );
    warned = next(client, 'warn');
    const second = await api.set('LOG_LEVEL', 'debug');
    await warned;
    expect(client.status().seq).toBe(second);

    const changed = next<Change>(client, 'change');
    const seq = await api.set('MAX_BATCH_SIZE', 250);
    expect(await changed).toMatchObject({ key: 'MAX_BATCH_SIZE', value: 250, seq });
    expect(warnings).toEqual([
      `Ignored a change event (id ${first}): data is not an object`,
      `Ignored a change event (id ${second}): \`key\` is not a string`,
    ]);
    expect(Object.keys(client.getAll())).not.toContain('undefined');
  });

  it('reads a value the token may not see as missing, with the fallback when given', async () => {
    const opened = api.relay.next(isStream);
    const masked = new ConfigClient<Values>({
      url: api.relay.url,
      token: await api.api.token('read'),
      reportIntervalMs: 60_000,
    });
    try {
      await masked.ready();
      await opened;
      expect(masked.get('EXPORT_WEBHOOK_URL')).toBeUndefined();
      const changed = next<Change>(masked, 'change');
      await api.set('EXPORT_WEBHOOK_URL', 'https://hooks.example/another-secret');
      expect(await changed).toMatchObject({ key: 'EXPORT_WEBHOOK_URL', value: undefined });
      expect(masked.get('EXPORT_WEBHOOK_URL')).toBeUndefined();
      expect(masked.get('EXPORT_WEBHOOK_URL', 'none')).toBe('none');
      expect(masked.getAll()).not.toHaveProperty('EXPORT_WEBHOOK_URL');
    } finally {
      await masked.close();
    }
  });

  it('is typed by the keys the application declares (an interface works too)', () => {
    interface Declared {
      MAX_BATCH_SIZE: number;
    }
    const typed = client as unknown as ConfigClient<Declared>;
    expectTypeOf(typed.get('MAX_BATCH_SIZE')).toEqualTypeOf<number | undefined>();
    expectTypeOf(typed.get('MAX_BATCH_SIZE', 50)).toEqualTypeOf<number>();
    // @ts-expect-error a key the application did not declare
    typed.get('MAX_BATCH_SIZ');
    typed.subscribe(['MAX_BATCH_SIZE'], (change) => {
      expectTypeOf(change.value).toEqualTypeOf<number | undefined>();
    });
  });
});

/** The next process warning named `name` (the client's, when nothing listens or a handler failed). */
function nextWarning(name: string): Promise<Error> {
  return new Promise((resolve) => {
    const seen = (warning: Error): void => {
      if (warning.name !== name) return;
      process.off('warning', seen);
      resolve(warning);
    };
    process.on('warning', seen);
  });
}
