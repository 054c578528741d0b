import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigClient, type ConfigChange } from '../../src/client/index.js';
import { FakeApi, next, shippedValues, TOKEN, type StreamOpened } from './fake-api.js';

type Values = { MAX_BATCH_SIZE: number; AI_CONFIDENCE_THRESHOLD: number; EXPORT_WEBHOOK_URL: string | null };
type Change = ConfigChange<Values>;

describe('ConfigClient following live changes', () => {
  let api: FakeApi;
  let client: ConfigClient<Values>;

  beforeEach(async () => {
    api = await new FakeApi(shippedValues()).start();
    const opened = next<StreamOpened>(api.events, 'stream');
    client = new ConfigClient<Values>({
      url: api.url,
      token: TOKEN,
      env: 'production',
      reportIntervalMs: 60_000,
    });
    await client.ready();
    await opened;
  });

  afterEach(async () => {
    await client.close();
    await api.stop();
  });

  it('serves the snapshot from memory once ready', () => {
    expect(client.get('MAX_BATCH_SIZE')).toBe(100);
    expect(client.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.85);
    expect(client.getAll()).toEqual({
      MAX_BATCH_SIZE: 100,
      AI_CONFIDENCE_THRESHOLD: 0.85,
      EXPORT_WEBHOOK_URL: 'https://hooks.example/secret-path-123',
    });
    expect(client.status()).toMatchObject({ ready: true, source: 'api', seq: 10 });
    expect(api.snapshotQueries[0]?.get('env')).toBe('production');
  });

  it('applies a change from the stream and tells subscribers of that key only', async () => {
    const seen: Change[] = [];
    client.subscribe(['AI_CONFIDENCE_THRESHOLD'], (change) => void seen.push(change));
    const changed = next<Change>(client, 'change');
    api.change('MAX_BATCH_SIZE', 250);
    const change = await changed;
    expect(change).toMatchObject({ key: 'MAX_BATCH_SIZE', value: 250, previous: 100, version: 2, seq: 11 });
    expect(change.actor).toEqual({ id: '111111111111111111', tag: 'admin' });
    expect(client.get('MAX_BATCH_SIZE')).toBe(250);
    expect(seen).toEqual([]);
  });

  it('stops calling a listener once unsubscribed', async () => {
    const seen: unknown[] = [];
    const unsubscribe = client.subscribe(['MAX_BATCH_SIZE'], (change) => void seen.push(change.value));
    let changed = next<Change>(client, 'change');
    api.change('MAX_BATCH_SIZE', 300);
    await changed;
    unsubscribe();
    changed = next<Change>(client, 'change');
    api.change('MAX_BATCH_SIZE', 400);
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
    api.change('AI_CONFIDENCE_THRESHOLD', 0.9);
    await failed;
    const changed = next<Change>(client, 'change');
    api.change('AI_CONFIDENCE_THRESHOLD', 0.95);
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
    api.change('MAX_BATCH_SIZE', 250);
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
    api.change('MAX_BATCH_SIZE', 250);
    expect((await warned).message).toBe(
      "A handler of the configuration client's 'error' event rejected: logger down (A configuration listener for MAX_BATCH_SIZE threw: boom)",
    );
    expect(errors).toHaveLength(1);
  });

  it('skips an event whose data is not a change, with a warning, and still moves past it', async () => {
    const warnings: string[] = [];
    client.on('warn', (message) => warnings.push(message));
    let warned = next(client, 'warn');
    api.publishRaw('change', 'null');
    await warned;
    warned = next(client, 'warn');
    const keyless = { seq: 12, scope: 'global', action: 'set', value: 5, version: 2, layer: 'global' };
    api.publishRaw('change', JSON.stringify(keyless));
    await warned;
    expect(client.status().seq).toBe(12);

    const changed = next<Change>(client, 'change');
    api.change('MAX_BATCH_SIZE', 250);
    expect(await changed).toMatchObject({ key: 'MAX_BATCH_SIZE', value: 250, seq: 13 });
    expect(warnings).toEqual([
      'Ignored a change event (id 11): data is not an object',
      'Ignored a change event (id 12): `key` is not a string',
    ]);
    expect(Object.keys(client.getAll()).sort()).toEqual([
      'AI_CONFIDENCE_THRESHOLD',
      'EXPORT_WEBHOOK_URL',
      'MAX_BATCH_SIZE',
    ]);
  });

  it('reads a value the token may not see as missing, with the fallback when given', async () => {
    const changed = next<Change>(client, 'change');
    api.change('EXPORT_WEBHOOK_URL', null, { masked: true, sensitive: true });
    expect(await changed).toMatchObject({ key: 'EXPORT_WEBHOOK_URL', value: undefined });
    expect(client.get('EXPORT_WEBHOOK_URL')).toBeUndefined();
    expect(client.get('EXPORT_WEBHOOK_URL', 'none')).toBe('none');
  });

  it('hands out values the application cannot mutate', async () => {
    api.values.MAX_BATCH_SIZE = { value: { nested: [1] }, version: 1, layer: 'global', sensitive: false };
    const loose = new ConfigClient({ url: api.url, token: TOKEN, reportIntervalMs: 60_000 });
    await loose.ready();
    const value = loose.get('MAX_BATCH_SIZE') as { nested: number[] };
    expect(() => value.nested.push(2)).toThrow(TypeError);
    await loose.close();
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
