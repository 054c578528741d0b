import { describe, expect, it } from 'vitest';
import { newSigningKeyText, parseSigningKey } from '../../src/audit/signing.js';
import { startTestApi } from '../helpers/api.js';
import { actor } from '../helpers/db.js';

// GET /v1/audit/verify over real HTTP: the same check as /config audit verify, for a token with
// read access.

const keyText = newSigningKeyText();
const signing = parseSigningKey(keyText);

interface Report {
  intact: boolean;
  from: number;
  to: number;
  headSeq: number;
  rowsChecked: number;
  checkpointsChecked: number;
  began: string | null;
  breaks: { kind: string; seq: number | null; toSeq: number | null; id: string | null; text: string }[];
}

describe('GET /v1/audit/verify', () => {
  it('answers a read token with the report: intact, then the edited row by id and in a sentence', async () => {
    const api = await startTestApi('audit_verify_api', { vars: { AUDIT_SIGNING_KEY: keyText } });
    const svc = api.runtime.config;
    const genesis = await svc.trail.begin();
    for (let i = 0; i < 3; i++) await svc.set('MAX_BATCH_SIZE', String(300 + i), actor());
    await svc.trail.checkpoint();
    const token = await api.token('read');
    const verify = async (query = '') => {
      const res = await api.call(`/v1/audit/verify${query}`, { token });
      expect(res.status).toBe(200);
      return (await res.json()) as Report;
    };

    const ok = await verify();
    const head = (await svc.trail.state()).headSeq;
    expect(ok).toMatchObject({
      intact: true,
      from: 1,
      to: head,
      headSeq: head,
      rowsChecked: head,
      checkpointsChecked: 2,
      began: genesis.at.toISOString(),
      breaks: [],
    });
    expect(genesis.keyId).toBe(signing.id);
    // A range checks only its rows.
    expect(await verify('?from=2&to=4')).toMatchObject({ intact: true, from: 2, to: 4, rowsChecked: 3 });

    const rows = svc.conn.collection('config_audit_logs');
    const victim = await rows.findOne({ seq: head - 1 });
    await rows.updateOne({ _id: victim!._id }, { $set: { reason: 'edited through the driver' } });
    const broken = await verify();
    expect(broken.intact).toBe(false);
    expect(broken.breaks).toEqual([
      {
        kind: 'edited',
        seq: head - 1,
        toSeq: null,
        id: String(victim!._id),
        text: `row ${head - 1} (id ${String(victim!._id)}): content edited; it no longer matches the hash the chain recorded for it`,
      },
    ]);
    // A range that leaves the row out does not see it.
    expect((await verify(`?to=${head - 2}`)).intact).toBe(true);
  });

  it('refuses from after to with a plain 400, a bad number with 400, and no token with 401', async () => {
    const api = await startTestApi('audit_verify_api_refusals');
    const token = await api.token('read');
    const backwards = await api.call('/v1/audit/verify?from=5&to=2', { token });
    expect(backwards.status).toBe(400);
    expect(await backwards.json()).toEqual({
      error: { code: 'INVALID_VALUE', message: 'from (5) is after to (2): nothing was checked.' },
    });
    const zero = await api.call('/v1/audit/verify?from=0', { token });
    expect(zero.status).toBe(400);
    const body = (await zero.json()) as { error: { code: string; message: string } };
    expect(body.error.message).toMatch(/from/);
    expect(body.error.message).not.toMatch(/\n\s+at /);

    const anonymous = await api.call('/v1/audit/verify');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: expect.any(String) as unknown } });
  });
});
