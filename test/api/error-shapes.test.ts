import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.js';

/** A raw HTTP/1.1 exchange (fetch refuses to send some of these requests at all). */
function raw(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; type: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const errorBody = { error: { code: expect.any(String), message: expect.any(String) } };

describe('every API error is { error: { code, message } }', () => {
  it('answers a very long key (414) and thousands of keys in ?keys= (431) as JSON errors', async () => {
    const api = await startTestApi('error_shapes_long');
    const token = await api.token('read');
    const auth = { authorization: `Bearer ${token}` };
    const longKey = await raw(api.url, `/v1/config/${'A'.repeat(5000)}`, auth);
    expect(longKey.type).toMatch(/application\/json/);
    expect(JSON.parse(longKey.body)).toEqual(errorBody);
    expect(longKey.status).toBe(414);

    const keys = Array.from({ length: 3000 }, (_, i) => `KEY_${i}`).join(',');
    const many = await raw(api.url, `/v1/events?keys=${keys}`, auth);
    expect(many.type).toMatch(/application\/json/);
    expect(JSON.parse(many.body)).toEqual(errorBody);
    expect(many.status).toBe(431);
    const headers = await raw(api.url, '/v1/config', { ...auth, 'x-big': 'x'.repeat(20_000) });
    expect(headers.status).toBe(431);
    expect(JSON.parse(headers.body)).toEqual({
      error: { code: 'HEADERS_TOO_LARGE', message: expect.stringMatching(/headers are too large/) },
    });
  });

  it('says __proto__ and constructor names are refused, not that the JSON is invalid', async () => {
    const api = await startTestApi('error_shapes_proto');
    const token = await api.token('write');
    for (const body of [
      '{"value": 5, "__proto__": {"x": 1}}',
      '{"value": {"constructor": {"prototype": {}}}}',
    ]) {
      const res = await api.call('/v1/config/MAX_BATCH_SIZE', {
        method: 'PUT',
        token,
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(res.status, body).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.message, body).not.toMatch(/not valid JSON/i);
      expect(error.message, body).toMatch(/__proto__|constructor/);
      expect(error.message, body).toMatch(/refused/);
    }
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(100);
  });
});
