import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { actor, uniqueDbName } from '../helpers/db.js';
import { startTestApi } from '../helpers/api.js';
import { openEvents } from '../helpers/sse.js';

const HOOK = 'https://hooks.example.com/secret-path-123';
const key = () => randomBytes(32).toString('base64');

describe('a process without the key a stored secret needs', () => {
  it('keeps following every other key, serves the secret masked, and says so in /readyz and /metrics', async () => {
    const dbName = uniqueDbName('undecryptable');
    const withKey = await startTestApi('undecryptable_a', {
      dbName,
      vars: { CONFIG_ENCRYPTION_KEYS: key() },
    });
    const without = await startTestApi('undecryptable_b', { dbName });
    const token = await without.token('read', { sensitive: true });
    const stream = await openEvents(`${without.url}/v1/events`, { authorization: `Bearer ${token}` });

    const secret = await withKey.runtime.config.set('EXPORT_WEBHOOK_URL', HOOK, actor());
    const after = await withKey.runtime.config.set('MAX_BATCH_SIZE', '300', actor());
    // The change after the secret arrives: the feed did not stop at the secret.
    const next = await stream.next((e) => e.id === String(after.seq), 'the change after the secret');
    expect(next.data).toMatchObject({ key: 'MAX_BATCH_SIZE', value: 300 });
    const locked = await stream.next((e) => e.id === String(secret.seq), 'the secret change');
    expect(locked.data).toMatchObject({
      key: 'EXPORT_WEBHOOK_URL',
      value: null,
      masked: true,
      undecryptable: true,
    });
    expect(without.runtime.config.get('MAX_BATCH_SIZE')).toBe(300);
    expect(without.runtime.config.get('EXPORT_WEBHOOK_URL')).toBeUndefined();

    const read = await without.call('/v1/config/EXPORT_WEBHOOK_URL', { token });
    expect(read.status).toBe(200);
    const text = await read.text();
    expect(text).not.toContain('secret-path');
    expect(JSON.parse(text)).toMatchObject({ value: null, masked: true, undecryptable: true });
    const history = await without.call('/v1/config/EXPORT_WEBHOOK_URL/history', { token });
    expect(history.status).toBe(200);
    expect(((await history.json()) as { versions: unknown[] }).versions[0]).toMatchObject({
      version: 2,
      value: null,
      masked: true,
      undecryptable: true,
    });

    const ready = await without.call('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      problems: [expect.stringMatching(/^EXPORT_WEBHOOK_URL is served masked: .*CONFIG_ENCRYPTION_KEYS/)],
    });
    expect(await (await without.call('/metrics')).text()).toMatch(
      /config_undecryptable_values\{key="EXPORT_WEBHOOK_URL",scope="global"\} 1/,
    );
    // The process with the key serves it, and reports nothing wrong.
    expect(withKey.runtime.config.get('EXPORT_WEBHOOK_URL')).toBe(HOOK);
    expect(await (await withKey.call('/readyz')).json()).toMatchObject({ problems: [] });
  });

  it('answers history with masked values, never a 500, after the key it holds was rotated away', async () => {
    const dbName = uniqueDbName('undecryptable_rotated');
    const [oldKey, newKey] = [key(), key()];
    const stale = await startTestApi('rotated_old', { dbName, vars: { CONFIG_ENCRYPTION_KEYS: oldKey } });
    await stale.runtime.config.set('EXPORT_WEBHOOK_URL', HOOK, actor());
    const rotator = await startTestApi('rotated_new', {
      dbName,
      vars: { CONFIG_ENCRYPTION_KEYS: `${newKey},${oldKey}` },
    });
    expect((await rotator.runtime.config.rotateEncryption(actor())).resealed).toBeGreaterThan(0);
    const token = await stale.token('read', { sensitive: true });
    const res = await stale.call('/v1/config/EXPORT_WEBHOOK_URL/history', { token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { versions: Record<string, unknown>[] };
    expect(body.versions[0]).toMatchObject({ version: 2, value: null, masked: true, undecryptable: true });
  });
});
