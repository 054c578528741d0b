import { describe, expect, it } from 'vitest';
import { parseFlag, type FlagInput } from '@config-bot/client/flags';

const valid: FlagInput = {
  name: 'new-checkout',
  description: 'The new checkout page',
  type: 'release',
  owner: 'team-payments',
};

const errorsOf = (patch: Record<string, unknown>): string[] => {
  const r = parseFlag({ ...valid, ...patch });
  return r.ok ? [] : r.errors;
};

const condition = (operator: string, values: unknown, attribute: unknown = 'plan') => ({
  conditions: [{ attribute, operator, values }],
});

describe('parseFlag', () => {
  it('accepts a minimal flag and fills every default (off, in no environment, 100%, sticky on userId)', () => {
    expect(parseFlag(valid)).toEqual({
      ok: true,
      flag: {
        ...valid,
        enabled: false,
        environments: [],
        include: { users: [], roles: [], guilds: [] },
        exclude: { users: [], roles: [], guilds: [] },
        conditions: [],
        rollout: 100,
        stickiness: 'userId',
        prerequisites: [],
        variants: [],
        archived: false,
        impact: 'low',
      },
    });
  });

  it('accepts every field at once, and what it returns parses again unchanged (stored documents)', () => {
    const full = {
      ...valid,
      type: 'experiment',
      enabled: true,
      environments: ['production', 'eu-staging'],
      include: { users: ['100000000000000001'], roles: ['200000000000000001'], guilds: [] },
      exclude: { users: [], roles: [], guilds: ['300000000000000001'] },
      conditions: [
        { attribute: 'plan', operator: 'in', values: ['pro', 'team'] },
        { attribute: 'seats', operator: 'gt', values: ['-2.5'] },
        { attribute: 'signup', operator: 'before', values: ['2026-05-01'] },
        { attribute: 'app.version', operator: 'semver_lt', values: ['2.0.0-beta.1'] },
        { attribute: 'email', operator: 'ends_with', values: ['@example.com'], caseInsensitive: true },
        { attribute: 'email', operator: 'regex', values: ['^[a-z]{1,3}\\d+@'], inverted: true },
        { attribute: 'ip', operator: 'in_cidr', values: ['10.0.0.0/8', '2001:db8::/32', '192.168.1.7'] },
        { attribute: 'seats', operator: 'gte', values: ['10'] },
        { attribute: 'app.version', operator: 'semver_gte', values: ['1.4.0'] },
        // Unleash's meaning: in nothing never holds (written as JSON, or imported).
        { attribute: 'plan', operator: 'in', values: [] },
      ],
      rollout: 12.34,
      stickiness: 'tenant_id',
      group: 'checkout',
      start: '2026-05-01T09:00:00Z',
      end: '2026-06-01T09:00:00+02:00',
      prerequisites: ['payments-v2'],
      variants: [
        { name: 'control', weight: 500 },
        {
          name: 'one-click',
          weight: 500,
          payload: { type: 'json', value: '{"steps":1}' },
          overrides: [
            { attribute: 'userId', values: ['100000000000000001'] },
            { attribute: 'plan', values: ['enterprise', 'team'] },
          ],
        },
      ],
      errorThreshold: { errors: 50, windowMs: 60_000 },
    };
    const first = parseFlag(full);
    expect(first.ok).toBe(true);
    if (first.ok) expect(parseFlag(JSON.parse(JSON.stringify(first.flag)))).toEqual(first);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a name that is not lower-kebab-case',
      { name: 'New_Checkout' },
      'name: `New_Checkout` is not a flag name',
    ],
    ['a one-letter name', { name: 'x' }, 'name: `x` is not a flag name'],
    ['a missing description', { description: undefined }, 'description: is required'],
    ['a blank description', { description: '   ' }, 'description: must not be empty'],
    ['an unknown type', { type: 'feature' }, 'type: must be one of release, experiment, ops, permission'],
    ['a missing owner', { owner: undefined }, 'owner: is required'],
    ['a kill switch that is not a boolean', { enabled: 'yes' }, 'enabled: must be true or false'],
    [
      'an environment name in capitals',
      { environments: ['Prod'] },
      'environments[0]: `Prod` is not an environment name',
    ],
    [
      'an environment listed twice',
      { environments: ['prod', 'prod'] },
      'environments[1]: `prod` is listed twice',
    ],
    [
      'a user id that is not a snowflake',
      { include: { users: ['bob'] } },
      'include.users[0]: `bob` is not a Discord user id',
    ],
    [
      'a role id too short',
      { exclude: { roles: ['123'] } },
      'exclude.roles[0]: `123` is not a Discord role id',
    ],
    ['a server id with letters', { include: { guilds: ['12345678901234567a'] } }, 'include.guilds[0]:'],
    ['an unknown target kind', { include: { members: [] } }, 'include.members: unknown field'],
    ['an unknown operator', condition('like', ['x']), 'conditions[0].operator: must be one of in, not_in'],
    [
      'a bad attribute name',
      condition('in', ['x'], '9lives'),
      'conditions[0].attribute: `9lives` is not an attribute name',
    ],
    [
      'a condition on __proto__, which no context can hold',
      condition('in', ['x'], '__proto__'),
      'conditions[0].attribute: `__proto__` cannot be an attribute: no application can pass __proto__, constructor, prototype as one',
    ],
    [
      'a condition on prototype',
      condition('not_in', ['x'], 'prototype'),
      'conditions[0].attribute: `prototype` cannot be an attribute',
    ],
    [
      'contains with no values',
      condition('contains', []),
      'conditions[0].values: must list at least one value',
    ],
    [
      'a regular expression RE2 cannot run (a lookahead)',
      condition('regex', ['^(?=a)b$']),
      "conditions[0].values[0]: `^(?=a)b$` is not a regular expression in RE2's syntax (Unleash's): error parsing regexp: invalid or unsupported Perl syntax: `(?=`",
    ],
    [
      'regex with two values',
      condition('regex', ['a', 'b']),
      'conditions[0].values: regex compares with exactly one value, got 2',
    ],
    [
      'in_cidr with a range that is not one',
      condition('in_cidr', ['10.0.0.0/8', '10.0.0.0/33']),
      'conditions[0].values[1]: `10.0.0.0/33` is not an IPv4 or IPv6 address or CIDR range (10.0.0.0/8, 2001:db8::/32) (needed by in_cidr)',
    ],
    [
      'gte with a word',
      condition('gte', ['many']),
      'conditions[0].values[0]: `many` is not a number (needed by gte)',
    ],
    ['semver_lte with a partial version', condition('semver_lte', ['2']), '`2` is not a semantic version'],
    [
      'a value pinned to two variants',
      {
        variants: [
          { name: 'a', weight: 500, overrides: [{ attribute: 'plan', values: ['pro', 'team'] }] },
          { name: 'b', weight: 500, overrides: [{ attribute: 'plan', values: ['free', 'team'] }] },
        ],
      },
      'variants[1].overrides[0]: `plan=team` pins both a and b: a context gets one variant',
    ],
    [
      'an override with no values',
      { variants: [{ name: 'a', weight: 1000, overrides: [{ attribute: 'plan', values: [] }] }] },
      'variants[0].overrides[0].values: must list at least one value',
    ],
    [
      'an override on constructor',
      { variants: [{ name: 'a', weight: 1000, overrides: [{ attribute: 'constructor', values: ['x'] }] }] },
      'variants[0].overrides[0].attribute: `constructor` cannot be an attribute',
    ],
    [
      'caseInsensitive on a number operator',
      { conditions: [{ attribute: 'seats', operator: 'lt', values: ['5'], caseInsensitive: true }] },
      'conditions[0].caseInsensitive: applies to text operators only (equals, not_equals, contains, starts_with, ends_with, regex), not lt',
    ],
    [
      'inverted given as text',
      { conditions: [{ attribute: 'plan', operator: 'in', values: ['pro'], inverted: 'yes' }] },
      'conditions[0].inverted: must be true or false',
    ],
    ['an empty value', condition('in', ['']), 'conditions[0].values[0]: must not be empty'],
    [
      'equals with two values',
      condition('equals', ['a', 'b']),
      'conditions[0].values: equals compares with exactly one value',
    ],
    [
      'lt with a word',
      condition('lt', ['ten']),
      'conditions[0].values[0]: `ten` is not a number (needed by lt)',
    ],
    ['gt with a unit', condition('gt', ['5kg']), 'conditions[0].values[0]: `5kg` is not a number'],
    [
      'before with a date that does not exist',
      condition('before', ['2026-02-30']),
      'conditions[0].values[0]: `2026-02-30` is not an ISO 8601 date',
    ],
    [
      'after with a time without zone',
      condition('after', ['2026-02-01T10:00:00']),
      'is not an ISO 8601 date',
    ],
    [
      'semver_gt with a partial version',
      condition('semver_gt', ['1.2']),
      'conditions[0].values[0]: `1.2` is not a semantic version',
    ],
    ['semver_eq with a v prefix', condition('semver_eq', ['v1.2.3']), '`v1.2.3` is not a semantic version'],
    ['a rollout over 100', { rollout: 100.5 }, 'rollout: must be from 0 to 100'],
    ['a negative rollout', { rollout: -1 }, 'rollout: must be from 0 to 100'],
    ['a rollout with three decimals', { rollout: 33.333 }, 'rollout: must have at most two decimals'],
    ['a rollout given as text', { rollout: '50' }, 'rollout: must be a percentage from 0 to 100'],
    [
      'a stickiness that is not an attribute',
      { stickiness: 'user id' },
      'stickiness: `user id` is not userId, guildId or an attribute name',
    ],
    [
      'a stickiness in the wrong case, which no application sends',
      { stickiness: 'userid' },
      'stickiness: `userid` is not a context field: did you mean userId? (names are case-sensitive)',
    ],
    [
      'a stickiness on the evaluation time',
      { stickiness: 'currentTime' },
      'stickiness: `currentTime` changes at every evaluation',
    ],
    ['a stickiness on constructor', { stickiness: 'constructor' }, 'stickiness: `constructor` cannot be'],
    ['an empty group', { group: '' }, 'group: must not be empty'],
    [
      'a start that is not a date-time',
      { start: 'tomorrow' },
      'start: `tomorrow` is not an ISO 8601 date-time',
    ],
    [
      'an end before the start',
      { start: '2026-05-01T00:00:00Z', end: '2026-04-01T00:00:00Z' },
      'end: must be after start',
    ],
    [
      'an end equal to the start',
      { start: '2026-05-01T00:00:00Z', end: '2026-05-01T02:00:00+02:00' },
      'end: must be after start',
    ],
    [
      'a prerequisite on itself',
      { prerequisites: ['new-checkout'] },
      'prerequisites[0]: a flag cannot require itself',
    ],
    [
      'a prerequisite that is not a flag name',
      { prerequisites: ['Payments'] },
      'prerequisites[0]: `Payments` is not a flag name',
    ],
    [
      'a prerequisite listed twice',
      { prerequisites: ['ab', 'ab'] },
      'prerequisites[1]: `ab` is listed twice',
    ],
    [
      'weights that do not add up to 1000',
      {
        variants: [
          { name: 'a', weight: 50 },
          { name: 'b', weight: 50 },
        ],
      },
      'variants: weights must add up to 1000',
    ],
    [
      'a variant named disabled',
      { variants: [{ name: 'disabled', weight: 1000 }] },
      'variants[0].name: `disabled` is the name',
    ],
    [
      'two variants with one name',
      {
        variants: [
          { name: 'a', weight: 500 },
          { name: 'a', weight: 500 },
        ],
      },
      'variants[1]: `a` is listed twice',
    ],
    [
      'a JSON payload that is not JSON',
      { variants: [{ name: 'a', weight: 1000, payload: { type: 'json', value: '{' } }] },
      'variants[0].payload.value: `{` is not valid JSON',
    ],
    [
      'a number payload that is not a number',
      { variants: [{ name: 'a', weight: 1000, payload: { type: 'number', value: 'x' } }] },
      'variants[0].payload.value: `x` is not a number',
    ],
    [
      'an unknown payload type',
      { variants: [{ name: 'a', weight: 1000, payload: { type: 'xml', value: '' } }] },
      'variants[0].payload.type: must be one of string, json, csv, number',
    ],
    [
      'an error threshold of zero errors',
      { errorThreshold: { errors: 0, windowMs: 60_000 } },
      'errorThreshold.errors: must be at least 1',
    ],
    [
      'an error window under a second',
      { errorThreshold: { errors: 5, windowMs: 10 } },
      'errorThreshold.windowMs: must be at least 1000',
    ],
    ['archived that is not a boolean', { archived: 1 }, 'archived: must be true or false'],
    ['a misspelt field', { rolout: 50 }, 'rolout: unknown field'],
  ])('refuses %s, naming the field', (_, patch, message) => {
    expect(errorsOf(patch)).toEqual([expect.stringContaining(message)]);
  });

  it('refuses a fractional weight, and says what the weights add up to', () => {
    expect(errorsOf({ variants: [{ name: 'a', weight: 999.5 }] })).toEqual([
      'variants[0].weight: must be a whole number (thousandths: 500 is half)',
      'variants: weights must add up to 1000 (thousandths, as in Unleash), they add up to 999.5',
    ]);
  });

  it('reports every problem at once, not only the first', () => {
    const errors = errorsOf({
      name: 'X',
      type: 'nope',
      rollout: 101,
      ...condition('lt', ['a']),
      end: 'soon',
    });
    expect(errors.map((e) => e.split(':')[0])).toEqual([
      'name',
      'type',
      'conditions[0].values[0]',
      'rollout',
      'end',
    ]);
  });

  it('refuses what is not an object, without throwing', () => {
    for (const input of [null, undefined, 'flag', 42, []])
      expect(parseFlag(input)).toMatchObject({ ok: false });
    expect(parseFlag(null)).toEqual({ ok: false, errors: ['flag: must be an object'] });
  });
});
