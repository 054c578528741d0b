import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.js';

describe('approvals over the API', () => {
  it('answers 202 with the change request a write of a high-impact key became, and changes nothing', async () => {
    const api = await startTestApi('api_approvals', { vars: { APPROVALS_REQUIRED: 'high:1' } });
    const writer = await api.token('write');
    const res = await api.call('/v1/config/AI_CONFIDENCE_THRESHOLD', {
      method: 'PUT',
      token: writer,
      json: { value: 0.9 },
    });
    expect(res.status).toBe(202);
    const text = await res.text();
    // Plain text for programs and people: no Discord markup (<t:…:R>, **, <@…>).
    expect(text).not.toMatch(/<t:|\*\*|<@/);
    const body = JSON.parse(text) as { request: { id: string; expiresAt: string } };
    expect(body).toEqual({
      status: 'approval-required',
      request: {
        id: expect.stringMatching(/^CR-[A-Z0-9]{5}$/),
        status: 'pending',
        level: 'high',
        approvalsNeeded: 1,
        approvals: 0,
        expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        changes: [
          { key: 'AI_CONFIDENCE_THRESHOLD', scope: 'global', action: 'set', before: '0.85', after: '0.9' },
        ],
        warnings: [],
      },
      message: expect.stringMatching(
        /^Not applied yet: AI_CONFIDENCE_THRESHOLD is high impact and needs 1 approval from another admin\. Change request CR-[A-Z0-9]{5} was created; it expires at \d{4}-/,
      ),
    });
    expect(Date.parse(body.request.expiresAt)).toBeGreaterThan(Date.now());
    const id = body.request.id;
    const request = await api.runtime.config.requests.get(String(id));
    expect(request).toMatchObject({
      status: 'pending',
      required: 1,
      changes: [{ key: 'AI_CONFIDENCE_THRESHOLD', after: '0.9' }],
    });
    expect(api.runtime.config.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.85);
    // A medium key applies at once.
    expect(
      (await api.call('/v1/config/MAX_BATCH_SIZE', { method: 'PUT', token: writer, json: { value: 120 } }))
        .status,
    ).toBe(200);
  });

  it('documents the 202 answer of every write route in the OpenAPI document', async () => {
    const api = await startTestApi('api_approvals_doc');
    const doc = (await (await api.call('/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    for (const [path, method] of [
      ['/v1/config/{key}', 'put'],
      ['/v1/config/{key}/rollback', 'post'],
      ['/v1/config/{key}/reset', 'post'],
    ] as const)
      expect(Object.keys(doc.paths[path]?.[method]?.responses ?? {}), `${method} ${path}`).toContain('202');
  });
});
