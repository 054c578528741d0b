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
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('APPROVAL_REQUIRED');
    const id = /CR-[A-Z0-9]{5}/.exec(error.message)?.[0];
    expect(id).toBeDefined();
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
});
