import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { openEvents } from '../helpers/sse.js';

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
