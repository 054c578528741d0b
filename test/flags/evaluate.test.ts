import { once } from 'node:events';
import net from 'node:net';
import fc from 'fast-check';
import murmurhash3js from 'murmurhash3js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FlagCounts,
  FlagSet,
  type FlagContext,
  type FlagDefinition,
  type FlagInput,
} from '@config-bot/client/flags';
import { offlineUnleash, toUnleashContext, toUnleashFeature } from '../../scripts/lib/bench-flags.js';

const USER = '100000000000000001';
const OTHER_USER = '100000000000000002';
const ROLE = '200000000000000001';
const GUILD = '300000000000000001';

const flag = (name: string, extra: Partial<FlagInput> = {}): FlagInput => ({
  name,
  description: 'a test flag',
  type: 'release',
  owner: 'team-a',
  enabled: true,
  environments: ['production'],
  ...extra,
});

function build(...flags: FlagInput[]): FlagSet {
  const set = new FlagSet(flags, { environment: 'production' });
  expect(set.rejected).toEqual([]);
  return set;
}

const explain = (f: FlagInput, ctx: FlagContext = { userId: USER }, ...others: FlagInput[]) =>
  build(f, ...others).explain(f.name, ctx);

describe('explain gives the deciding rule', () => {
  it('unknown flag, archived, kill switch', () => {
    expect(build().explain('nope')).toMatchObject({ reason: 'unknown_flag', enabled: false });
    expect(explain(flag('old', { archived: true }))).toMatchObject({ reason: 'archived', enabled: false });
    expect(explain(flag('killed', { enabled: false }))).toMatchObject({
      reason: 'disabled',
      message: 'the flag is switched off (kill switch)',
    });
  });

  it('not in this environment: the context’s, else the set’s; an empty list is on nowhere', () => {
    expect(explain(flag('f-flag'), { userId: USER, environment: 'staging' })).toMatchObject({
      reason: 'environment',
      environment: 'staging',
      message: 'not on in `staging`; on in production',
    });
    expect(new FlagSet([flag('f-flag')]).explain('f-flag', {})).toMatchObject({
      reason: 'environment',
      message: 'no environment given; on in production',
    });
    expect(explain(flag('f-flag', { environments: [] }))).toMatchObject({ reason: 'environment' });
    expect(explain(flag('f-flag'), { userId: USER, environment: 'production' }).enabled).toBe(true);
  });

  it('before start and after end (start inclusive, end exclusive)', () => {
    const f = flag('timed', { start: '2026-01-01T00:00:00Z', end: '2026-02-01T00:00:00Z' });
    const at = (iso: string) => explain(f, { userId: USER, now: new Date(iso) });
    expect(at('2025-12-31T23:59:59Z')).toMatchObject({ reason: 'before_start', enabled: false });
    expect(at('2026-01-01T00:00:00Z')).toMatchObject({ reason: 'rollout_in', enabled: true });
    expect(at('2026-02-01T00:00:00Z')).toMatchObject({ reason: 'after_end', enabled: false });
  });

  it('excluded by user, role or server, even when also included', () => {
    const targets = { users: [USER], roles: [ROLE], guilds: [GUILD] };
    const f = flag('f-flag', { exclude: targets, include: targets });
    expect(explain(f, { userId: USER })).toMatchObject({ reason: 'excluded', by: 'user', id: USER });
    expect(explain(f, { userId: OTHER_USER, roles: ['1', ROLE] })).toMatchObject({
      reason: 'excluded',
      by: 'role',
      id: ROLE,
      message: `role ${ROLE} is excluded`,
    });
    expect(explain(f, { userId: OTHER_USER, guildId: GUILD })).toMatchObject({
      reason: 'excluded',
      by: 'guild',
      message: `server ${GUILD} is excluded`,
    });
  });

  it('included by user, role or server skips failing conditions and a 0% rollout', () => {
    const f = flag('f-flag', {
      include: { users: [USER], roles: [ROLE], guilds: [GUILD] },
      conditions: [{ attribute: 'plan', operator: 'equals', values: ['pro'] }],
      rollout: 0,
    });
    expect(explain(f, { userId: USER })).toMatchObject({ reason: 'included', by: 'user', enabled: true });
    expect(explain(f, { roles: [ROLE] })).toMatchObject({ reason: 'included', by: 'role', enabled: true });
    expect(explain(f, { guildId: GUILD })).toMatchObject({ reason: 'included', by: 'guild', enabled: true });
    expect(explain(f, { userId: OTHER_USER, attributes: { plan: 'pro' } })).toMatchObject({
      reason: 'rollout_out',
    });
  });

  it('prerequisite off, naming which one and why; included users need it too', () => {
    const parent = flag('parent', { enabled: false });
    const child = flag('child', {
      prerequisites: ['other', 'parent'],
      include: { users: [USER], roles: [], guilds: [] },
    });
    const e = explain(child, { userId: USER }, parent, flag('other'));
    expect(e).toMatchObject({
      reason: 'prerequisite_off',
      enabled: false,
      prerequisite: { name: 'parent', reason: 'disabled' },
      message: 'prerequisite `parent` is off: the flag is switched off (kill switch)',
    });
    expect(explain(flag('orphan', { prerequisites: ['missing'] }))).toMatchObject({
      reason: 'prerequisite_off',
      prerequisite: { name: 'missing', reason: 'unknown_flag' },
    });
    // The prerequisite is evaluated for the same context: in its rollout for one user, not another.
    const half = flag('half', { rollout: 50 });
    const set = build(half, flag('needs-half', { prerequisites: ['half'] }));
    for (const userId of ['a', 'b', 'c', 'd', 'e', 'f'])
      expect(set.isEnabled('needs-half', { userId })).toBe(set.isEnabled('half', { userId }));
  });

  it('condition failed: which one, and the value it saw', () => {
    const f = flag('f-flag', {
      conditions: [
        { attribute: 'plan', operator: 'in', values: ['pro', 'team'] },
        { attribute: 'seats', operator: 'gt', values: ['5'] },
      ],
    });
    expect(explain(f, { userId: USER, attributes: { plan: 'pro', seats: '3' } })).toMatchObject({
      reason: 'condition_failed',
      condition: { index: 1, attribute: 'seats', operator: 'gt', values: ['5'], actual: '3' },
      message: 'condition 2 failed: seats gt 5 (seats is `3`)',
    });
    expect(explain(f, { userId: USER }).message).toBe(
      'condition 1 failed: plan in pro, team (plan is not set)',
    );
    expect(explain(f, { userId: USER, attributes: { plan: 'team', seats: '6' } }).enabled).toBe(true);
  });

  it('in or out of the rollout with the bucket (Unleash’s formula) and the percentage', () => {
    const f = flag('half', { rollout: 50, group: 'g1' });
    for (const userId of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']) {
      const e = explain(f, { userId });
      const bucket = (murmurhash3js.x86.hash32(`g1:${userId}`, 0) % 100) + 1;
      expect(e.rollout).toEqual({ percentage: 50, stickiness: 'userId', group: 'g1', bucket });
      expect(e).toMatchObject(
        bucket <= 50
          ? { reason: 'rollout_in', enabled: true, message: `in the rollout: bucket ${bucket} ≤ 50%` }
          : { reason: 'rollout_out', enabled: false, message: `out of the rollout: bucket ${bucket} > 50%` },
      );
    }
  });

  it('missing stickiness value below 100%; none needed at 100% or 0%', () => {
    expect(explain(flag('f-flag', { rollout: 30 }), {})).toMatchObject({
      reason: 'missing_stickiness',
      message: 'no userId in the context to place it in the 30% rollout',
    });
    expect(explain(flag('g-flag', { rollout: 30, stickiness: 'guildId' }), { userId: USER })).toMatchObject({
      reason: 'missing_stickiness',
    });
    expect(explain(flag('f-flag', { rollout: 100 }), {})).toMatchObject({
      reason: 'rollout_in',
      enabled: true,
    });
    expect(explain(flag('f-flag', { rollout: 0 }), {})).toMatchObject({
      reason: 'rollout_out',
      enabled: false,
    });
  });

  it('a context that cannot be read is off with reason error, never a throw', () => {
    const boom = (): never => {
      throw new Error('boom');
    };
    const set = build(
      flag('f-flag', {
        rollout: 50,
        start: '2020-01-01T00:00:00Z',
        variants: [{ name: 'only', weight: 1000 }],
      }),
    );
    for (const field of ['userId', 'environment', 'now']) {
      const hostile = Object.defineProperty({}, field, { get: boom }) as FlagContext;
      expect(set.isEnabled('f-flag', hostile)).toBe(false);
      expect(set.explain('f-flag', hostile)).toMatchObject({ reason: 'error', enabled: false });
      expect(set.variant('f-flag', hostile).name).toBe('disabled');
    }
    // Readable once (in the rollout), throwing after: the variant and the explanation still answer.
    const inside = ['u1', 'u2', 'u3', 'u4', 'u5'].find(
      (id) => murmurhash3js.x86.hash32(`f-flag:${id}`, 0) % 100 < 50,
    );
    expect(set.variant('f-flag', { userId: inside })).toMatchObject({ name: 'only', enabled: true });
    let reads = 0;
    const flaky = {
      get userId() {
        return ++reads > 1 ? boom() : inside;
      },
    } as FlagContext;
    expect(set.variant('f-flag', flaky)).toEqual({ name: 'disabled', enabled: false, featureEnabled: true });
    reads = 0;
    expect(() => set.explain('f-flag', flaky)).not.toThrow();
  });
});

describe('conditions', () => {
  const at = { 'app.version': '2.3.0', plan: 'pro-annual', seats: '12', joined: '2025-06-01T00:00:00Z' };
  it.each<[string, FlagDefinition['conditions'][number], boolean]>([
    ['in', { attribute: 'plan', operator: 'in', values: ['free', 'pro-annual'] }, true],
    ['not_in on a missing attribute', { attribute: 'country', operator: 'not_in', values: ['FR'] }, true],
    ['equals', { attribute: 'plan', operator: 'equals', values: ['pro'] }, false],
    ['not_equals', { attribute: 'plan', operator: 'not_equals', values: ['pro'] }, true],
    ['contains', { attribute: 'plan', operator: 'contains', values: ['x', 'annual'] }, true],
    ['starts_with', { attribute: 'plan', operator: 'starts_with', values: ['pro-'] }, true],
    ['lt', { attribute: 'seats', operator: 'lt', values: ['12'] }, false],
    ['gt with decimals', { attribute: 'seats', operator: 'gt', values: ['11.5'] }, true],
    ['gt on a missing attribute', { attribute: 'age', operator: 'gt', values: ['1'] }, false],
    ['before', { attribute: 'joined', operator: 'before', values: ['2026-01-01'] }, true],
    ['after', { attribute: 'joined', operator: 'after', values: ['2025-06-01T00:00:00Z'] }, false],
    ['after on currentTime', { attribute: 'currentTime', operator: 'after', values: ['2026-01-01'] }, true],
    ['semver_eq', { attribute: 'app.version', operator: 'semver_eq', values: ['2.3.0'] }, true],
    [
      'semver_lt (prerelease)',
      { attribute: 'app.version', operator: 'semver_lt', values: ['2.4.0-beta.1'] },
      true,
    ],
    ['semver_gt', { attribute: 'app.version', operator: 'semver_gt', values: ['2.3.0'] }, false],
    [
      'on a built-in: environment',
      { attribute: 'environment', operator: 'in', values: ['production'] },
      true,
    ],
  ])('%s', (_, condition, expected) => {
    const ctx = { userId: USER, attributes: at, now: new Date('2026-03-01T00:00:00Z') };
    expect(explain(flag('c-flag', { conditions: [condition] }), ctx).enabled).toBe(expected);
  });

  it('a context value that is not a number (as Number reads it), date or version fails the condition', () => {
    const f = flag('c-flag', {
      conditions: [
        { attribute: 'v', operator: 'semver_gt', values: ['1.0.0'] },
        { attribute: 'n', operator: 'lt', values: ['5'] },
      ],
    });
    const set = build(f);
    expect(set.isEnabled('c-flag', { attributes: { v: 'v2.0.0', n: '1' } })).toBe(false);
    expect(set.isEnabled('c-flag', { attributes: { v: '2.0.0', n: 'five' } })).toBe(false);
    // Numbers in a context are read as Unleash reads them (JavaScript's Number): '' is 0.
    expect(set.isEnabled('c-flag', { attributes: { v: '2.0.0', n: '' } })).toBe(true);
    expect(set.isEnabled('c-flag', { attributes: { v: '2.0.0', n: '1' } })).toBe(true);
    // A name like a prototype member is no attribute: such a flag is left out, so off.
    const proto = new FlagSet(
      [flag('p-flag', { conditions: [{ attribute: 'constructor', operator: 'not_in', values: ['x'] }] })],
      { environment: 'production' },
    );
    expect(proto.rejected[0]?.errors[0]).toMatch(
      /^conditions\[0\]\.attribute: `constructor` cannot be an attribute/,
    );
    expect(proto.explain('p-flag', { attributes: {} }).enabled).toBe(false);
  });
});

describe('variants', () => {
  const variants = [
    { name: 'control', weight: 0 },
    { name: 'blue', weight: 500, payload: { type: 'json' as const, value: '{"color":"blue"}' } },
    { name: 'green', weight: 500 },
  ];

  it('is Unleash’s disabled variant when off, and when on without variants says the flag is on', () => {
    const set = build(flag('off', { enabled: false, variants }), flag('plain'));
    expect(set.variant('off', { userId: USER })).toEqual({
      name: 'disabled',
      enabled: false,
      featureEnabled: false,
    });
    expect(set.variant('plain', { userId: USER })).toEqual({
      name: 'disabled',
      enabled: false,
      featureEnabled: true,
    });
    expect(set.variant('nope', { userId: USER })).toMatchObject({ name: 'disabled', enabled: false });
  });

  it('splits by weight, stays sticky, and skips weight 0; no stickiness value gets the first weighted variant', () => {
    const set = build(flag('exp', { variants }));
    const seen = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const v = set.variant('exp', { userId: `user-${i}` });
      expect(set.variant('exp', { userId: `user-${i}` })).toBe(v);
      seen.set(v.name, (seen.get(v.name) ?? 0) + 1);
    }
    expect(seen.get('control')).toBeUndefined();
    expect(seen.get('blue')).toBeGreaterThan(900);
    expect(seen.get('green')).toBeGreaterThan(900);
    expect(set.variant('exp', {})).toMatchObject({ name: 'blue', payload: { type: 'json' } });
    expect(set.explain('exp', { userId: 'user-1' }).variant).toBe(
      set.variant('exp', { userId: 'user-1' }).name,
    );
  });
});

describe('prerequisite cycles', () => {
  it('are off, say which cycle, and stop a flag that depends on them', () => {
    const set = build(
      flag('a-flag', { prerequisites: ['b-flag'] }),
      flag('b-flag', { prerequisites: ['c-flag'] }),
      flag('c-flag', { prerequisites: ['a-flag'] }),
      flag('d-flag', { prerequisites: ['a-flag'] }),
    );
    expect(set.isEnabled('a-flag', { userId: USER })).toBe(false);
    expect(set.explain('b-flag', { userId: USER })).toMatchObject({
      reason: 'prerequisite_cycle',
      cycle: ['b-flag', 'c-flag', 'a-flag', 'b-flag'],
      message: 'its prerequisites form a cycle: b-flag → c-flag → a-flag → b-flag',
    });
    expect(set.explain('d-flag', { userId: USER })).toMatchObject({
      reason: 'prerequisite_off',
      prerequisite: { name: 'a-flag', reason: 'prerequisite_cycle' },
    });
  });

  it('of hundreds of flags end at once', () => {
    const n = 500;
    const flags = Array.from({ length: n }, (_, i) => flag(`f${i}`, { prerequisites: [`f${(i + 1) % n}`] }));
    const set = build(...flags);
    expect(set.explain('f7', { userId: USER })).toMatchObject({ reason: 'prerequisite_cycle' });
    expect(set.explain('f7', { userId: USER }).cycle).toHaveLength(n + 1);
  });
});

describe('counts and robustness', () => {
  it('counts evaluations per flag and reason, unknown names included, explain excluded, across swaps', () => {
    const counts = new FlagCounts();
    const set = new FlagSet([flag('known', { rollout: 0 })], { environment: 'production', counts });
    set.isEnabled('known', { userId: USER });
    set.variant('known', { userId: USER });
    set.isEnabled('typo-flag');
    set.variant('typo-flag');
    set.explain('typo-flag');
    set.explain('known');
    const next = set.with([flag('known')]);
    next.isEnabled('known', { userId: USER });
    expect(next.counts()).toEqual({
      known: { rollout_out: 2, rollout_in: 1 },
      'typo-flag': { unknown_flag: 2 },
    });
  });

  it('caps the number of unknown names it remembers', () => {
    const set = build();
    for (let i = 0; i < 1100; i++) set.isEnabled(`missing-${i}`);
    const counts = set.counts();
    expect(Object.keys(counts)).toHaveLength(1001);
    expect(counts['*']).toEqual({ unknown_flag: 100 });
  });

  it('never throws, whatever it is given', () => {
    const set = build(
      flag('f-flag', { rollout: 50, conditions: [{ attribute: 'a', operator: 'lt', values: ['1'] }] }),
    );
    const odd = [
      null,
      undefined,
      { roles: 'not-a-list' },
      { attributes: null },
      { now: 'yesterday' },
      { userId: 42 },
      { attributes: { a: 0 } },
    ] as unknown as FlagContext[];
    for (const ctx of odd)
      for (const name of ['f-flag', '', 'x'.repeat(10_000), undefined, 7] as unknown as string[]) {
        expect(() => set.isEnabled(name, ctx)).not.toThrow();
        expect(() => set.variant(name, ctx)).not.toThrow();
        expect(() => set.explain(name, ctx)).not.toThrow();
      }
  });

  it('leaves out invalid definitions and repeated names, saying why', () => {
    const set = new FlagSet([flag('ok'), flag('ok', { rollout: 5 }), { name: 'Bad' } as FlagInput]);
    expect(set.names()).toEqual(['ok']);
    expect(set.rejected).toEqual([
      { name: 'ok', errors: ['name: another flag has this name'] },
      {
        name: 'Bad',
        errors: expect.arrayContaining([expect.stringMatching(/^name: `Bad` is not a flag name/)]),
      },
    ]);
  });
});

describe('rollout', () => {
  const percent = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 100);
  it('raising the percentage only ever adds users (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 40 }),
        percent,
        percent,
        fc.option(
          fc.string({ minLength: 1, maxLength: 20 }).filter((g) => g.trim() === g),
          { nil: undefined },
        ),
        (ids, a, b, group) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const lowSet = build(flag('r-flag', { rollout: low, group }));
          const highSet = build(flag('r-flag', { rollout: high, group }));
          for (const userId of ids)
            if (lowSet.isEnabled('r-flag', { userId }))
              expect(highSet.isEnabled('r-flag', { userId })).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('compatibility with unleash-client (offline, bootstrap data)', () => {
  // Unleash is given this server's address; every connection to it is counted, and must not happen.
  let server: net.Server;
  let url = '';
  let connections = 0;
  beforeAll(async () => {
    server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((r) => setTimeout(r, 100)); // a request started late would have connected by now
    server.close();
    expect(connections).toBe(0);
  });

  const ids = Array.from({ length: 10_000 }, (_, i) =>
    i % 10 === 9 ? `user-é-${i}@example.com` : String(100_000_000_000_000_000n + BigInt(i) * 7_919_113n),
  );
  const contexts: FlagContext[] = ids.map((userId, i) => ({
    userId,
    guildId: String(300_000_000_000_000_000n + BigInt(i % 97)),
    environment: 'production',
    attributes: {
      tenant: `tenant-${i % 1013}`,
      plan: i % 3 ? 'pro' : 'free',
      // For Unleash's other operators: numbers as Number() reads them (' 7 ', ''), versions
      // valid and not, addresses of both families, mixed-case text.
      seats: ['0', '5', '7.5', '12', ' 7 ', '', 'many', '1e1'][i % 8] as string,
      version: ['1.2.3', '2.0.0-beta.1', '2.0.0', '10.1.0', 'v1.0.0', 'x'][i % 6] as string,
      ip: i % 2 ? `10.${i % 256}.${(i >> 8) % 4}.1` : `2001:db8::${(i % 4096).toString(16)}`,
      email: `User${i}@${['Example.com', 'example.COM', 'test.org'][i % 3]}`,
    },
  }));

  const variantJson = (v: { name: string; enabled: boolean; feature_enabled?: boolean; payload?: unknown }) =>
    JSON.stringify({
      name: v.name,
      enabled: v.enabled,
      featureEnabled: v.feature_enabled,
      ...(v.payload ? { payload: v.payload } : {}),
    });

  async function compare(defs: FlagInput[], what: 'isEnabled' | 'variant'): Promise<Map<string, number>> {
    const set = build(...defs);
    const unleash = await offlineUnleash(
      defs.map((d) => toUnleashFeature(set.get(d.name) as FlagDefinition, 'production')),
      url,
    );
    const on = new Map<string, number>();
    const differences: string[] = [];
    try {
      contexts.forEach((ctx) => {
        const theirs = toUnleashContext(ctx);
        for (const { name } of defs) {
          const ours =
            what === 'isEnabled' ? set.isEnabled(name, ctx) : JSON.stringify(set.variant(name, ctx));
          const their =
            what === 'isEnabled'
              ? unleash.isEnabled(name, theirs)
              : variantJson(unleash.getVariant(name, theirs));
          if (ours !== their) differences.push(`${name} ${ctx.userId}: ours ${ours}, unleash ${their}`);
          const key = what === 'isEnabled' ? name : `${name}:${JSON.parse(String(ours)).name}`;
          if (ours === true || what === 'variant') on.set(key, (on.get(key) ?? 0) + 1);
        }
      });
    } finally {
      unleash.destroy();
    }
    expect(differences.slice(0, 5)).toEqual([]);
    return on;
  }

  it('puts the same 10,000 users in and out at every percentage, group and stickiness', async () => {
    const percentages = [0, 0.5, 1, 5, 12.5, 33.33, 50, 77, 99.99, 100];
    const on = await compare(
      [
        ...percentages.map((p) => flag(`p-${String(p).replace('.', '-')}`, { rollout: p })),
        flag('grouped', { rollout: 25, group: 'shared-group' }),
        flag('by-guild', { rollout: 40, stickiness: 'guildId' }),
        flag('by-tenant', { rollout: 60, stickiness: 'tenant' }),
        flag('with-condition', {
          rollout: 50,
          conditions: [{ attribute: 'plan', operator: 'in', values: ['pro'] }],
        }),
      ],
      'isEnabled',
    );
    // The answers are not trivially all-off: each share is near its percentage.
    expect(on.get('p-0') ?? 0).toBe(0);
    expect(on.get('p-100')).toBe(10_000);
    expect(on.get('p-50')).toBeGreaterThan(4_700);
    expect(on.get('p-50')).toBeLessThan(5_300);
    expect(on.get('p-12-5')).toBeGreaterThan(1_000);
  });

  it('answers every operator as unleash-client does, inverted and case-insensitive too', async () => {
    type C = NonNullable<FlagInput['conditions']>[number];
    const conditions: [string, C][] = [
      ['ends', { attribute: 'email', operator: 'ends_with', values: ['@example.com', '.org'] }],
      [
        'ends-ci',
        { attribute: 'email', operator: 'ends_with', values: ['@example.com'], caseInsensitive: true },
      ],
      [
        'starts-ci-not',
        {
          attribute: 'email',
          operator: 'starts_with',
          values: ['user1'],
          caseInsensitive: true,
          inverted: true,
        },
      ],
      ['contains-ci', { attribute: 'email', operator: 'contains', values: ['R2'], caseInsensitive: true }],
      ['regex', { attribute: 'email', operator: 'regex', values: ['^User[0-9]{1,3}@'] }],
      [
        'regex-ci',
        { attribute: 'email', operator: 'regex', values: ['^user\\d+5@example'], caseInsensitive: true },
      ],
      [
        'cidr',
        { attribute: 'ip', operator: 'in_cidr', values: ['10.0.0.0/12', '2001:db8::/116', '10.200.1.1'] },
      ],
      ['cidr-not', { attribute: 'ip', operator: 'in_cidr', values: ['10.128.0.0/9'], inverted: true }],
      ['num-eq', { attribute: 'seats', operator: 'num_eq', values: ['7'] }],
      ['num-lte', { attribute: 'seats', operator: 'lte', values: ['7.5'] }],
      ['num-gte', { attribute: 'seats', operator: 'gte', values: ['10'] }],
      ['num-lt-not', { attribute: 'seats', operator: 'lt', values: ['1'], inverted: true }],
      ['semver-lte', { attribute: 'version', operator: 'semver_lte', values: ['2.0.0'] }],
      ['semver-gte', { attribute: 'version', operator: 'semver_gte', values: ['2.0.0-beta.1'] }],
      ['semver-eq-not', { attribute: 'version', operator: 'semver_eq', values: ['2.0.0'], inverted: true }],
      ['in-empty', { attribute: 'plan', operator: 'in', values: [] }],
      ['not-in-empty', { attribute: 'plan', operator: 'not_in', values: [] }],
      ['in-not', { attribute: 'plan', operator: 'in', values: ['pro'], inverted: true }],
      ['missing-not', { attribute: 'absent', operator: 'contains', values: ['x'], inverted: true }],
    ];
    const on = await compare(
      conditions.map(([name, c]) => flag(`op-${name}`, { conditions: [c] })),
      'isEnabled',
    );
    // Each condition splits the contexts (none is trivially all or nothing) but the empty lists.
    for (const [name] of conditions.filter(([n]) => !n.endsWith('empty') && n !== 'missing-not')) {
      expect(on.get(`op-${name}`) ?? 0, name).toBeGreaterThan(0);
      expect(on.get(`op-${name}`) ?? 0, name).toBeLessThan(10_000);
    }
    // Unleash's meanings: in nothing never holds, not_in nothing always; a missing attribute
    // fails contains, so inverted it holds for everyone.
    expect([on.get('op-in-empty') ?? 0, on.get('op-not-in-empty'), on.get('op-missing-not')]).toEqual([
      0, 10_000, 10_000,
    ]);
  });

  it('chooses the same variants, with payloads, with and without a partial rollout', async () => {
    const variants = [
      { name: 'a', weight: 333, payload: { type: 'string' as const, value: 'A' } },
      { name: 'b', weight: 333 },
      { name: 'c', weight: 334, payload: { type: 'json' as const, value: '{"c":1}' } },
    ];
    const on = await compare(
      [
        flag('exp-full', { variants }),
        flag('exp-half', { variants, rollout: 50, group: 'exp-group' }),
        flag('exp-guild', {
          variants: variants.slice(0, 2).map((v) => ({ ...v, weight: 500 })),
          stickiness: 'guildId',
        }),
      ],
      'variant',
    );
    expect(on.get('exp-full:a')).toBeGreaterThan(3_000);
    expect(on.get('exp-half:disabled')).toBeGreaterThan(4_000);
  });

  it('pins variants by overrides before the weights, as unleash-client does', async () => {
    const pinned = [
      { name: 'a', weight: 500, overrides: [{ attribute: 'plan', values: ['free'] }] },
      {
        name: 'b',
        weight: 500,
        overrides: [
          { attribute: 'tenant', values: ['tenant-7', 'tenant-8'] },
          { attribute: 'userId', values: [contexts[3]?.userId ?? ''] },
        ],
      },
      // No weight: reached by its override only.
      { name: 'c', weight: 0, overrides: [{ attribute: 'tenant', values: ['tenant-9'] }] },
    ];
    const on = await compare([flag('pinned', { variants: pinned, rollout: 80, group: 'pinned' })], 'variant');
    expect(on.get('pinned:c')).toBeGreaterThan(0);
    // Every context on the free plan that is in the rollout got a (tenant overrides come later).
    expect(on.get('pinned:a')).toBeGreaterThan(2_000);
  });
});
