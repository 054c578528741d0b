import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.js';

describe('API refusals', () => {
  it('audits a write refused for a read token or a scope the token does not cover, as Discord does', async () => {
    const api = await startTestApi('refused_audit');
    const reader = await api.token('read', { name: 'reader' });
    const staging = await api.token('write', { name: 'staging-writer', scope: 'env:staging' });
    const put = (token: string, json: unknown) =>
      api.call('/v1/config/MAX_BATCH_SIZE', { method: 'PUT', token, json });
    expect((await put(reader, { value: 200 })).status).toBe(403);
    expect((await put(staging, { value: 200 })).status).toBe(403);
    const res = await api.call('/v1/config/MAX_BATCH_SIZE/rollback', {
      method: 'POST',
      token: reader,
      json: { version: 1 },
    });
    expect(res.status).toBe(403);
    await expect.poll(async () => (await api.runtime.config.auditLog({ status: 'denied' })).length).toBe(3);
    const rows = await api.runtime.config.auditLog({ status: 'denied' });
    expect(rows.map((r) => [r.key, r.action, r.actor.tag, r.channelId]).sort()).toEqual([
      ['MAX_BATCH_SIZE', 'rollback', 'api token reader', 'api'],
      ['MAX_BATCH_SIZE', 'set', 'api token reader', 'api'],
      ['MAX_BATCH_SIZE', 'set', 'api token staging-writer', 'api'],
    ]);
    expect(rows.every((r) => /^Token /.test(r.error ?? ''))).toBe(true);
    expect(api.runtime.config.get('MAX_BATCH_SIZE')).toBe(100);
  });

  it('still serves a token it knows to an address that bad tokens put over its limit (a shared NAT)', async () => {
    const api = await startTestApi('refused_nat', { vars: { API_AUTH_FAILURES_PER_MIN: '3' } });
    const good = await api.token('read');
    expect((await api.call('/v1/config/MAX_BATCH_SIZE', { token: good })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 7 && !statuses.includes(429); i++)
      statuses.push((await api.call('/v1/config', { token: `cfgbot_0000000000_${'x'.repeat(43)}` })).status);
    expect(statuses).toContain(429);
    expect((await api.call('/v1/config/MAX_BATCH_SIZE', { token: good })).status).toBe(200);
  });

  it('answers a route that does not exist with 404, token or not', async () => {
    const api = await startTestApi('refused_404');
    const res = await api.call('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'NOT_FOUND', message: expect.stringContaining('/v1/openapi.json') as unknown },
    });
  });

  it('stops even while a client holds a connection open without sending a request', async () => {
    const api = await startTestApi('refused_idle');
    const { port } = new URL(api.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await api.stop();
    await closed;
    expect(socket.destroyed).toBe(true);
  });
});
