import { describe, expect, it, vi } from 'vitest';
import type { OpenAPIV3 } from 'openapi-types';
import { rolloutBucket, type FlagInput } from '@config-bot/client/flags';
import { actor } from '../helpers/db.js';
import { startTestApi, type TestApi } from '../helpers/api.js';

const admin = actor();
const INCLUDED = '300000000000000001';

type Json = Record<string, unknown>;
const json = async (res: Response) => (await res.json()) as Json;
const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

/** A release flag on in both environments for half the users, and always for INCLUDED. */
const checkout: FlagInput = {
  name: 'new-checkout',
  description: 'The new checkout page',
  type: 'release',
  owner: 'payments',
  enabled: true,
  environments: ['production', 'staging'],
  include: { users: [INCLUDED] },
  rollout: 50,
};

/** On in production for servers on the pro plan. */
const proOnly: FlagInput = {
  name: 'pro-reports',
  description: 'Reports for the pro plan',
  type: 'permission',
  owner: 'growth',
  enabled: true,
  environments: ['production'],
  conditions: [{ attribute: 'plan', operator: 'in', values: ['pro'] }],
};

/** A user id whose bucket for `flag` is inside (or outside) its rollout percentage. */
function userWhere(flag: string, percentage: number, inside: boolean): string {
  for (let i = 0; ; i++) {
    const id = `user-${i}`;
    if (rolloutBucket(flag, id) <= percentage === inside) return id;
  }
}

async function withFlags(label: string, ...inputs: FlagInput[]): Promise<TestApi> {
  const api = await startTestApi(label);
  for (const input of inputs) await api.runtime.flags.create(input, admin);
  return api;
}

const evaluate = (api: TestApi, token: string, name: string, context?: Json) =>
  api.call(`/v1/flags/${name}/evaluate`, { method: 'POST', token, json: context ? { context } : {} });

const report = (api: TestApi, token: string, name: string, body: Json = {}) =>
  api.call(`/v1/flags/${name}/errors`, { method: 'POST', token, json: body });

describe('GET /v1/flags', () => {
  it('lists every flag as stored, archived ones too, with its version, author and the position it includes', async () => {
    const api = await withFlags('flags_list', checkout, proOnly);
    const done = await api.runtime.flags.archive('pro-reports', admin, 'moved to plans');
    await vi.waitFor(() => expect(api.runtime.feed.position).toBeGreaterThanOrEqual(done.seq ?? Infinity));
    const res = await api.call('/v1/flags', { token: await api.token('read') });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.environment).toBe('production');
    expect(body.seq).toBeGreaterThanOrEqual(done.seq ?? Infinity);
    const flags = body.flags as Json[];
    expect(flags.map((f) => [f.name, f.version, f.archived])).toEqual([
      ['new-checkout', 1, false],
      ['pro-reports', 2, true],
    ]);
    expect(flags[0]).toEqual({
      ...api.runtime.flags.get('new-checkout')?.flag,
      version: 1,
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updatedBy: admin,
    });
    expect(flags[0]).toMatchObject({ rollout: 50, stickiness: 'userId', include: { users: [INCLUDED] } });
  });

  it('reads the environment of an env-scoped token, and refuses it another', async () => {
    const api = await withFlags('flags_list_env', checkout);
    const staging = await api.token('read', { scope: 'env:staging' });
    expect((await json(await api.call('/v1/flags', { token: staging }))).environment).toBe('staging');
    const refused = await api.call('/v1/flags?env=production', { token: staging });
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe('FORBIDDEN');
  });
});

describe('GET /v1/flags/:name', () => {
  it('answers a flag with its evaluations of the last 24 h, when it was last evaluated and whether it is stale', async () => {
    const api = await withFlags('flags_one', checkout);
    const token = await api.token('read');
    const fresh = await json(await api.call('/v1/flags/new-checkout', { token }));
    expect(fresh).toMatchObject({ evaluations24h: {}, lastEvaluatedAt: null, stale: false, staleWhy: null });

    await api.runtime.flags.usage.add({ 'new-checkout': { rollout_in: 3, included: 2 } });
    const body = await json(await api.call('/v1/flags/new-checkout', { token }));
    expect(body).toMatchObject({
      flag: { name: 'new-checkout', version: 1, enabled: true, updatedBy: admin },
      evaluations24h: { rollout_in: 3, included: 2 },
      lastEvaluatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      stale: false,
      staleWhy: null,
    });
  });

  it('answers an unknown flag with 404 and the nearest names', async () => {
    const api = await withFlags('flags_unknown', checkout);
    const res = await api.call('/v1/flags/new-chekout', { token: await api.token('read') });
    expect(res.status).toBe(404);
    const error = await errorOf(res);
    expect(error.code).toBe('UNKNOWN_KEY');
    expect(error.message).toContain('Did you mean new-checkout?');
  });
});

describe('POST /v1/flags/:name/evaluate', () => {
  it('places users inside and outside the rollout, and an included user in whatever their bucket', async () => {
    const api = await withFlags('flags_eval_rollout', checkout);
    const token = await api.token('read');
    const inside = await json(
      await evaluate(api, token, 'new-checkout', { userId: userWhere('new-checkout', 50, true) }),
    );
    expect(inside).toEqual({
      name: 'new-checkout',
      enabled: true,
      variant: { name: 'disabled', enabled: false },
      reason: 'rollout_in',
      message: expect.stringMatching(/^in the rollout: bucket \d+ ≤ 50%$/),
      version: 1,
    });
    const outside = await json(
      await evaluate(api, token, 'new-checkout', { userId: userWhere('new-checkout', 50, false) }),
    );
    expect(outside).toMatchObject({ enabled: false, reason: 'rollout_out' });
    const included = await json(await evaluate(api, token, 'new-checkout', { userId: INCLUDED }));
    expect(included).toMatchObject({
      enabled: true,
      reason: 'included',
      message: `user ${INCLUDED} is included`,
    });
    // No body at all: an empty context.
    const nobody = await json(await api.call('/v1/flags/new-checkout/evaluate', { method: 'POST', token }));
    expect(nobody).toMatchObject({ enabled: false, reason: 'missing_stickiness' });
  });

  it('checks a condition on an attribute, and the environment asked for', async () => {
    const api = await withFlags('flags_eval_condition', proOnly);
    const token = await api.token('read');
    const pro = await json(await evaluate(api, token, 'pro-reports', { attributes: { plan: 'pro' } }));
    expect(pro).toMatchObject({ enabled: true, reason: 'rollout_in' });
    const free = await json(await evaluate(api, token, 'pro-reports', { attributes: { plan: 'free' } }));
    expect(free).toMatchObject({
      enabled: false,
      reason: 'condition_failed',
      message: expect.stringContaining('plan is `free`'),
    });
    const staging = await json(
      await evaluate(api, token, 'pro-reports', { environment: 'staging', attributes: { plan: 'pro' } }),
    );
    expect(staging).toMatchObject({ enabled: false, reason: 'environment' });
  });

  it('evaluates for an env-scoped token’s environment, and refuses it another with 403', async () => {
    const api = await withFlags('flags_eval_scope', proOnly);
    const staging = await api.token('read', { scope: 'env:staging' });
    const own = await json(await evaluate(api, staging, 'pro-reports', { attributes: { plan: 'pro' } }));
    expect(own).toMatchObject({ enabled: false, reason: 'environment' });
    const refused = await evaluate(api, staging, 'pro-reports', { environment: 'production' });
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).message).toMatch(
      /limited to env:staging; it does not cover env:production/,
    );
  });

  it('counts each evaluation in this process, an unknown name too, which answers 404', async () => {
    const api = await withFlags('flags_eval_counts', checkout);
    const token = await api.token('read');
    const counts = () => api.runtime.flags.set.counts();
    const before = counts()['new-checkout']?.included ?? 0;
    await evaluate(api, token, 'new-checkout', { userId: INCLUDED });
    await evaluate(api, token, 'new-checkout', { userId: INCLUDED });
    expect(counts()['new-checkout']?.included).toBe(before + 2);

    const unknown = await evaluate(api, token, 'old-checkout', { userId: INCLUDED });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).message).toContain('Did you mean new-checkout?');
    expect(counts()['old-checkout']).toEqual({ unknown_flag: 1 });

    const metrics = await (await api.call('/metrics')).text();
    expect(metrics).toContain(`flag_evaluations_total{flag="new-checkout",reason="included"} ${before + 2}`);
    // Names that are no flag share one series, whatever applications typed.
    expect(metrics).toContain('flag_evaluations_total{flag="*",reason="unknown_flag"} 1');
    expect(metrics).not.toContain('flag="old-checkout"');
  });

  it('refuses a malformed context with 400 naming the field', async () => {
    const api = await withFlags('flags_eval_bad', checkout);
    const token = await api.token('read');
    for (const [context, field] of [
      [{ now: 'tomorrow' }, 'body.context.now'],
      [{ roles: 'admin' }, 'body.context.roles'],
      [{ attributes: { plan: 3 } }, 'body.context.attributes.plan'],
      [{ environment: 'qa' }, 'Unknown environment qa'],
    ] as const) {
      const res = await evaluate(api, token, 'new-checkout', context);
      expect(res.status, JSON.stringify(context)).toBe(400);
      expect((await errorOf(res)).message).toContain(field);
    }
  });
});

describe('POST /v1/flags/:name/errors', () => {
  it('counts reports until the threshold switches the flag off as the system, once', async () => {
    const api = await withFlags('flags_errors', {
      ...checkout,
      errorThreshold: { errors: 3, windowMs: 60_000 },
    });
    const token = await api.token('read');
    const first = await report(api, token, 'new-checkout', { count: 2 });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      name: 'new-checkout',
      counted: 2,
      errors: 2,
      threshold: { errors: 3, windowMs: 60_000 },
      killed: false,
      version: 1,
    });
    expect(await json(await report(api, token, 'new-checkout'))).toMatchObject({
      counted: 1,
      errors: 3,
      killed: true,
      version: 2,
    });
    const later = await json(await report(api, token, 'new-checkout', { count: 5 }));
    expect(later).toMatchObject({ killed: false, version: 2 });

    const flag = (await json(await api.call('/v1/flags/new-checkout', { token }))).flag;
    expect(flag).toMatchObject({ enabled: false, version: 2, updatedBy: { id: 'system', tag: 'system' } });
    const [v2] = await api.runtime.flags.history('new-checkout', { limit: 1 });
    expect(v2).toMatchObject({
      action: 'kill',
      actor: { id: 'system' },
      reason: expect.stringMatching(/^Automatic kill/),
    });

    const metrics = await (await api.call('/metrics')).text();
    expect(metrics).toContain('flag_kills_total{flag="new-checkout"} 1');
    expect(metrics).toContain('flag_error_reports_total{flag="new-checkout"} 3');
    expect(metrics).toContain('flag_errors_reported_total{flag="new-checkout"} 8');
  });

  it('reports errors of a flag without a threshold (nothing to kill), and answers an unknown flag with 404', async () => {
    const api = await withFlags('flags_errors_plain', checkout);
    const token = await api.token('read');
    expect(await json(await api.call('/v1/flags/new-checkout/errors', { method: 'POST', token }))).toEqual({
      name: 'new-checkout',
      counted: 1,
      errors: null,
      threshold: null,
      killed: false,
      version: 1,
    });
    expect((await report(api, token, 'no-such-flag')).status).toBe(404);
  });

  it('refuses a count that is not a whole number from 1 to 10000 with 400', async () => {
    const api = await withFlags('flags_errors_bad', checkout);
    const token = await api.token('read');
    for (const count of [0, 1.5, 10_001, 'many']) {
      const res = await report(api, token, 'new-checkout', { count });
      expect(res.status, String(count)).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe('VALIDATION');
      expect(error.message).toContain('body.count');
    }
  });
});

describe('POST /v1/instances/report with evaluations', () => {
  it('adds the reported counts to the shared usage, ignoring reasons it does not know', async () => {
    const api = await withFlags('flags_report', checkout);
    const token = await api.token('read');
    const res = await api.call('/v1/instances/report', {
      method: 'POST',
      token,
      json: {
        id: 'worker-1',
        applied: 1,
        evaluations: {
          'new-checkout': { rollout_in: 5, rollout_out: 4, teleported: 9 },
          'no-such': { unknown_flag: 2 },
        },
      },
    });
    expect(res.status).toBe(204);
    const usage = await api.runtime.flags.usage.last24h();
    expect(usage.get('new-checkout')).toEqual({ rollout_in: 5, rollout_out: 4 });
    expect(usage.get('no-such')).toEqual({ unknown_flag: 2 });
  });

  it('refuses malformed evaluations with 400 naming the field', async () => {
    const api = await withFlags('flags_report_bad', checkout);
    const token = await api.token('read');
    const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`flag-${i}`, { rollout_in: 1 }]));
    for (const [evaluations, text] of [
      [{ 'new-checkout': { rollout_in: -1 } }, 'body.evaluations.new-checkout.rollout_in'],
      [{ 'new-checkout': { rollout_in: 1.5 } }, 'body.evaluations.new-checkout.rollout_in'],
      [{ 'new-checkout': 3 }, 'body.evaluations.new-checkout'],
      [{ ['x'.repeat(101)]: { rollout_in: 1 } }, 'a flag name is 1 to 100 characters'],
      [many, 'at most 1000 flag names'],
      ['lots', 'body.evaluations'],
    ] as const) {
      const res = await api.call('/v1/instances/report', {
        method: 'POST',
        token,
        json: { id: 'worker-1', applied: 1, evaluations },
      });
      expect(res.status, text).toBe(400);
      expect((await errorOf(res)).message).toContain(text);
    }
    expect((await api.runtime.flags.usage.last24h()).size).toBe(0);
  });
});

describe('/v1/openapi.json', () => {
  it('lists the flag routes with the bodies they take', async () => {
    const api = await startTestApi('flags_openapi');
    const doc = (await (await api.call('/v1/openapi.json')).json()) as OpenAPIV3.Document;
    for (const path of [
      '/v1/flags',
      '/v1/flags/{name}',
      '/v1/flags/{name}/evaluate',
      '/v1/flags/{name}/errors',
    ])
      expect(Object.keys(doc.paths), path).toContain(path);
    const body = doc.paths['/v1/flags/{name}/evaluate']?.post?.requestBody as OpenAPIV3.RequestBodyObject;
    const schema = body.content['application/json']?.schema as OpenAPIV3.SchemaObject;
    expect(Object.keys(schema.properties ?? {})).toEqual(['context']);
  });
});
