import { describe, expect, it } from 'vitest';
import type { OpenAPIV3 } from 'openapi-types';
import { bindModels } from '../../src/storage/config-models.js';
import { startTestApi, type TestApi } from '../helpers/api.js';

type Json = Record<string, unknown>;
const json = async (res: Response) => (await res.json()) as Json;
const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

const minimal = { name: 'new-search', description: 'The new search', type: 'release', owner: 'search' };

const create = (api: TestApi, token: string, body: Json) =>
  api.call('/v1/flags', { method: 'POST', token, json: body });
const patch = (api: TestApi, token: string, name: string, body: Json) =>
  api.call(`/v1/flags/${name}`, { method: 'PATCH', token, json: body });
const audit = (api: TestApi, key: string) =>
  bindModels(api.runtime.config.conn).ConfigAudit.find({ key }).sort({ timestamp: 1 }).lean();

describe('POST /v1/flags', () => {
  it('creates a flag with every documented field, audited with the token as actor on channel api', async () => {
    const api = await startTestApi('flags_write_create');
    const writer = await api.token('write', { name: 'deployer' });
    const res = await create(api, writer, {
      ...minimal,
      enabled: true,
      environments: ['production'],
      rollout: 25,
      stickiness: 'tenant_id',
      group: 'search',
      variants: [
        { name: 'bm25', weight: 400 },
        { name: 'vector', weight: 600, payload: { type: 'json', value: '{"k":10}' } },
      ],
      errorThreshold: { errors: 20, windowMs: 60_000 },
      reason: 'launch plan',
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({
      name: 'new-search',
      status: 'committed',
      action: 'create',
      version: 1,
      changes: ['created'],
      seq: expect.any(Number),
      flag: {
        rollout: 25,
        stickiness: 'tenant_id',
        group: 'search',
        errorThreshold: { errors: 20, windowMs: 60_000 },
        version: 1,
        updatedBy: { tag: 'api token deployer' },
      },
    });
    expect(api.runtime.flags.get('new-search')?.flag.variants).toEqual([
      { name: 'bm25', weight: 400 },
      { name: 'vector', weight: 600, payload: { type: 'json', value: '{"k":10}' } },
    ]);
    const [row] = await audit(api, 'flag:new-search');
    expect(row).toMatchObject({
      action: 'create',
      status: 'success',
      channelId: 'api',
      reason: 'launch plan',
      actor: { id: expect.stringMatching(/^token:/), tag: 'api token deployer' },
    });
  });

  it('refuses bad fields with 400 naming each, and creates nothing', async () => {
    const api = await startTestApi('flags_write_create_bad');
    const writer = await api.token('write');
    const cases: [Json, RegExp][] = [
      [
        {
          variants: [
            { name: 'a', weight: 500 },
            { name: 'b', weight: 400 },
          ],
        },
        /body\.variants: weights must add up to 1000 \(thousandths, as in Unleash\), they add up to 900/,
      ],
      [{ stickiness: 'userid' }, /body\.stickiness: `userid` is not a context field: did you mean userId\?/],
      [
        { variants: [{ name: 'a', weight: 1000, payload: { type: 'number', value: 'ten' } }] },
        /body\.variants\.0\.payload\.value: `ten` is not a number/,
      ],
      [
        { variants: [{ name: 'a', weight: 1000, payload: { type: 'string', value: 5 } }] },
        /body\.variants\.0\.payload\.value: must be text/,
      ],
      [
        { errorThreshold: { errors: 0, windowMs: 100 } },
        /body\.errorThreshold\.errors: must be at least 1.*body\.errorThreshold\.windowMs: must be at least 1000/,
      ],
      [
        { errorThreshold: { errors: 5, windowMs: 172_800_000 } },
        /body\.errorThreshold\.windowMs: must be at most 86400000 \(24 h\)/,
      ],
      [
        { conditions: [{ attribute: '__proto__', operator: 'in', values: ['x'] }] },
        /`__proto__` cannot be an attribute/,
      ],
      [{ rolout: 50 }, /rolout: unknown field/],
      [{ archived: true }, /archived: not set here/],
    ];
    for (const [extra, message] of cases) {
      const res = await create(api, writer, { ...minimal, ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe('VALIDATION');
      expect(error.message).toMatch(message);
    }
    // Rules across fields are the store's: refused there, and audited.
    const crossed = await create(api, writer, {
      ...minimal,
      start: '2026-05-01T00:00:00Z',
      end: '2026-04-01T00:00:00Z',
    });
    expect(crossed.status).toBe(400);
    expect((await errorOf(crossed)).message).toBe(
      'new-search was not changed:\n• end: must be after start (2026-05-01T00:00:00Z)',
    );
    expect(api.runtime.flags.get('new-search')).toBeUndefined();
    expect((await audit(api, 'flag:new-search')).map((r) => [r.status, r.channelId])).toEqual([
      ['failed', 'api'],
    ]);
  });

  it('refuses a read token (403) and a token limited to an environment (flags are global), auditing it', async () => {
    const api = await startTestApi('flags_write_denied');
    expect((await create(api, await api.token('read'), minimal)).status).toBe(403);
    const staging = await api.token('write', { scope: 'env:staging', name: 'staging-writer' });
    const res = await create(api, staging, minimal);
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toBe(
      'Token staging-writer is limited to env:staging; it does not cover global.',
    );
    expect(api.runtime.flags.get('new-search')).toBeUndefined();
    // A read token changing a flag is refused before the route runs: audited under the flag's slot.
    const reader = await api.token('read', { name: 'reader' });
    expect((await patch(api, reader, 'other-flag', { rollout: 5 })).status).toBe(403);
    await expect
      .poll(() => audit(api, 'flag:other-flag'))
      .toContainEqual(
        expect.objectContaining({
          status: 'denied',
          action: 'set',
          actor: expect.objectContaining({ tag: 'api token reader' }),
        }),
      );
    // The denial is audited after the answer.
    await expect
      .poll(() => audit(api, 'flag:new-search'))
      .toMatchObject([
        { status: 'denied', action: 'create', channelId: 'api', actor: { tag: 'api token staging-writer' } },
      ]);
  });
});

describe('PATCH /v1/flags/:name', () => {
  it('changes variants, stickiness, group and the error threshold; null removes one; the same again is unchanged', async () => {
    const api = await startTestApi('flags_write_patch');
    const writer = await api.token('write');
    await create(api, writer, minimal);
    const res = await patch(api, writer, 'new-search', {
      variants: [
        { name: 'a', weight: 500 },
        { name: 'b', weight: 500, payload: { type: 'string', value: 'bee' } },
      ],
      stickiness: 'guildId',
      group: 'search',
      errorThreshold: { errors: 3, windowMs: 30_000 },
      reason: 'experiment',
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      status: 'committed',
      action: 'set',
      version: 2,
      changes: [
        'stickiness: userId → guildId',
        'group: none → search',
        'variants: +a (500), +b (500, string bee)',
        'error threshold: none → 3 errors in 30 s',
      ],
      flag: { version: 2, stickiness: 'guildId', errorThreshold: { errors: 3, windowMs: 30_000 } },
    });
    const removed = await json(await patch(api, writer, 'new-search', { errorThreshold: null, group: null }));
    expect(removed).toMatchObject({
      version: 3,
      changes: ['group: search → none', 'error threshold: 3 errors in 30 s → none'],
    });
    expect(removed.flag).not.toHaveProperty('errorThreshold');
    const same = await patch(api, writer, 'new-search', { stickiness: 'guildId' });
    expect(same.status).toBe(200);
    expect(await json(same)).toMatchObject({
      status: 'unchanged',
      version: 3,
      changes: [],
      message: 'new-search is already like that (version 3). Nothing was changed.',
    });
  });

  it('refuses an unknown flag (404, nearest name), a rename, an empty patch and bad values, changing nothing', async () => {
    const api = await startTestApi('flags_write_patch_bad');
    const writer = await api.token('write');
    await create(api, writer, minimal);
    const unknown = await patch(api, writer, 'new-serch', { rollout: 5 });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).message).toBe('No flag is named new-serch. Did you mean new-search?');
    const renamed = await patch(api, writer, 'new-search', { name: 'other' });
    expect(renamed.status).toBe(400);
    expect((await errorOf(renamed)).message).toMatch(/name: a flag cannot be renamed/);
    const empty = await patch(api, writer, 'new-search', { reason: 'nothing' });
    expect(empty.status).toBe(400);
    expect((await errorOf(empty)).message).toMatch(/^Nothing to change/);
    const weights = await patch(api, writer, 'new-search', { variants: [{ name: 'a', weight: 999 }] });
    expect((await errorOf(weights)).message).toMatch(/weights must add up to 1000.*add up to 999/);
    const window = await patch(api, writer, 'new-search', { errorThreshold: { errors: 1, windowMs: 999 } });
    expect((await errorOf(window)).message).toMatch(
      /errorThreshold\.windowMs: must be at least 1000 \(1 s\)/,
    );
    const enabled = await patch(api, writer, 'new-search', { enabled: null });
    expect((await errorOf(enabled)).message).toMatch(/body\.enabled: must be true or false/);
    expect(api.runtime.flags.get('new-search')?.version).toBe(1);
    expect((await audit(api, 'flag:new-serch')).map((r) => r.status)).toEqual(['failed']);
  });

  it('turns a change of a flag whose impact needs approvals into a change request (202), applying nothing', async () => {
    // The flag is made where no approvals are asked, then changed where APPROVALS_REQUIRED asks one.
    const free = await startTestApi('flags_write_approvals');
    const writer = await free.token('write');
    expect((await create(free, writer, { ...minimal, impact: 'high' })).status).toBe(201);
    const api = await startTestApi('flags_write_approvals_on', {
      dbName: free.env.MONGODB_DB_NAME,
      vars: { APPROVALS_REQUIRED: 'high:1' },
    });
    expect((await create(api, writer, { ...minimal, name: 'other-search', impact: 'high' })).status).toBe(
      202,
    );
    expect(api.runtime.flags.get('other-search')).toBeUndefined();
    const res = await patch(api, writer, 'new-search', { errorThreshold: { errors: 5, windowMs: 60_000 } });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { status: string; request: { id: string; changes: Json[] } };
    expect(body).toMatchObject({
      status: 'approval-required',
      request: {
        id: expect.stringMatching(/^CR-[A-Z0-9]{5}$/),
        level: 'high',
        approvalsNeeded: 1,
        changes: [{ key: 'flag:new-search', after: 'error threshold: none → 5 errors in 1 min' }],
      },
    });
    expect(api.runtime.flags.get('new-search')).toMatchObject({ version: 1 });
    expect(api.runtime.flags.get('new-search')?.flag.errorThreshold).toBeUndefined();
    expect(await api.runtime.config.requests.get(body.request.id)).toMatchObject({ status: 'pending' });
  });

  it('counts against the token’s request rate like every route (429)', async () => {
    const api = await startTestApi('flags_write_rate', { api: { perTokenPerMinute: 2 } });
    const writer = await api.token('write');
    expect((await create(api, writer, minimal)).status).toBe(201);
    expect((await patch(api, writer, 'new-search', { rollout: 10 })).status).toBe(200);
    const limited = await patch(api, writer, 'new-search', { rollout: 20 });
    expect(limited.status).toBe(429);
    expect(api.runtime.flags.get('new-search')?.flag.rollout).toBe(10);
  });
});

describe('the flag write routes in /v1/openapi.json', () => {
  it('documents both routes, their bodies with the model’s rules, and the 202 of a change request', async () => {
    const api = await startTestApi('flags_write_openapi');
    const doc = (await (await api.call('/v1/openapi.json')).json()) as OpenAPIV3.Document;
    const post = doc.paths['/v1/flags']?.post;
    const change = doc.paths['/v1/flags/{name}']?.patch;
    expect(Object.keys(post?.responses ?? {})).toEqual(expect.arrayContaining(['201', '202', '400', '409']));
    expect(Object.keys(change?.responses ?? {})).toEqual(expect.arrayContaining(['200', '202', '404']));
    const body = (change?.requestBody as OpenAPIV3.RequestBodyObject).content['application/json']
      ?.schema as OpenAPIV3.SchemaObject;
    expect(Object.keys(body.properties ?? {})).toEqual(
      expect.arrayContaining(['variants', 'stickiness', 'group', 'errorThreshold', 'reason']),
    );
    const threshold = body.properties?.errorThreshold as OpenAPIV3.SchemaObject;
    expect(JSON.stringify(threshold)).toContain('86400000');
  });
});
