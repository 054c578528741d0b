// A namespace import, and core helpers by name: esbuild then keeps only the parts of zod this
// schema uses when it bundles the client (about 200 kB instead of 750 kB; packages/client/build.mjs).
import * as z from 'zod';
import { toDotPath, type $RefinementCtx } from 'zod/v4/core';
import { preview } from '../text.js';
import {
  ATTRIBUTE_NAME,
  CONTEXT_FIELDS,
  EMPTY_LIST_OPERATORS,
  FLAG_IMPACTS,
  FLAG_NAME,
  FLAG_TYPES,
  OPERATORS,
  PAYLOAD_TYPES,
  RESERVED_ATTRIBUTES,
  SINGLE_VALUE_OPERATORS,
  TEXT_OPERATORS,
  VARIANT_WEIGHT_TOTAL,
  type FlagDefinition,
  type FlagInput,
  type Operator,
} from './model.js';
import { ENVIRONMENT_NAME } from './names.js';
import { compileRegex, parseAddress, parseDate, parseNumber, parseSemver } from './values.js';

/**
 * What a valid flag is, the one place that says it: the evaluator (evaluate.ts) trusts what
 * `parseFlag` returns, the server validates every write with it, and the client every flag it
 * receives. Every message names its field (`conditions[1].values[0]: ...`), and every issue is
 * reported, not only the first.
 */

const SNOWFLAKE = /^\d{15,21}$/;
const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_VALUES = 1000;

const quote = (v: unknown): string => `\`${preview(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))}\``;

/** Type errors say what was expected; a missing field says it is required. */
const expected = (what: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : `must be ${what}`),
});

const text = (max: number) =>
  z.string(expected('text')).trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

const flagName = z.string(expected('a flag name')).regex(FLAG_NAME, {
  error: (iss) =>
    `${quote(iss.input)} is not a flag name: use lower-kebab-case, a letter then 1 to 63 letters, digits or dashes`,
});

const snowflakes = (what: string) =>
  z
    .array(
      z.string(expected(`a Discord ${what} id`)).regex(SNOWFLAKE, {
        error: (iss) => `${quote(iss.input)} is not a Discord ${what} id (15 to 21 digits)`,
      }),
      expected(`a list of Discord ${what} ids`),
    )
    .max(MAX_VALUES, `must list at most ${MAX_VALUES} ids`)
    .default([]);

const targets = z
  .strictObject(
    { users: snowflakes('user'), roles: snowflakes('role'), guilds: snowflakes('server') },
    expected('an object'),
  )
  .default({ users: [], roles: [], guilds: [] });

const NUMBER = { parse: parseNumber, what: 'a number' };
const DATE = {
  parse: parseDate,
  what: 'an ISO 8601 date (2026-05-01) or date-time with a zone (2026-05-01T09:00:00Z)',
};
const SEMVER = { parse: parseSemver, what: 'a semantic version (1.4.0, 2.0.0-beta.1)' };

/** What each operator's values must be, checked when the flag is written; an `error` says why not. */
const VALUE_CHECKS: Partial<Record<Operator, { parse: (s: string) => unknown; what: string }>> = {
  num_eq: NUMBER,
  lt: NUMBER,
  lte: NUMBER,
  gt: NUMBER,
  gte: NUMBER,
  before: DATE,
  after: DATE,
  semver_eq: SEMVER,
  semver_lt: SEMVER,
  semver_lte: SEMVER,
  semver_gt: SEMVER,
  semver_gte: SEMVER,
  in_cidr: {
    parse: parseAddress,
    what: 'an IPv4 or IPv6 address or CIDR range (10.0.0.0/8, 2001:db8::/32)',
  },
};

const reserved = (name: string) =>
  `${quote(name)} cannot be an attribute: no application can pass ${[...RESERVED_ATTRIBUTES].join(', ')} as one, so nothing could ever match`;

/** A context attribute a rule reads: not a name no application can pass. */
const attributeName = z
  .string(expected('an attribute name'))
  .regex(ATTRIBUTE_NAME, {
    error: (iss) =>
      `${quote(iss.input)} is not an attribute name (a letter or _, then letters, digits, _ . -; at most 64)`,
  })
  .refine((a) => !RESERVED_ATTRIBUTES.has(a), { error: (iss) => reserved(String(iss.input)) });

const conditionSchema = z
  .strictObject(
    {
      attribute: attributeName,
      operator: z.enum(OPERATORS, { error: `must be one of ${OPERATORS.join(', ')}` }),
      values: z
        .array(text(200), expected('a list of values'))
        .max(MAX_VALUES, `must list at most ${MAX_VALUES} values`),
      inverted: z.boolean(expected('true or false')).optional(),
      caseInsensitive: z.boolean(expected('true or false')).optional(),
    },
    expected('an object'),
  )
  .superRefine((c, ctx) => {
    if (!OPERATORS.includes(c.operator) || !Array.isArray(c.values)) return;
    if (c.caseInsensitive === true && !TEXT_OPERATORS.has(c.operator))
      ctx.addIssue({
        code: 'custom',
        path: ['caseInsensitive'],
        message: `applies to text operators only (${[...TEXT_OPERATORS].join(', ')}), not ${c.operator}`,
      });
    if (c.values.length === 0 && !EMPTY_LIST_OPERATORS.has(c.operator)) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'must list at least one value' });
      return;
    }
    if (SINGLE_VALUE_OPERATORS.has(c.operator) && c.values.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `${c.operator} compares with exactly one value, got ${c.values.length}`,
      });
      return;
    }
    if (c.operator === 'regex') {
      const re = typeof c.values[0] === 'string' ? compileRegex(c.values[0]) : undefined;
      if (re && 'error' in re)
        ctx.addIssue({
          code: 'custom',
          path: ['values', 0],
          message: `${quote(c.values[0])} is not a regular expression in RE2's syntax (Unleash's): ${re.error}`,
        });
      return;
    }
    const check = VALUE_CHECKS[c.operator];
    if (!check) return;
    c.values.forEach((v, i) => {
      if (typeof v === 'string' && check.parse(v) === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['values', i],
          message: `${quote(v)} is not ${check.what} (needed by ${c.operator})`,
        });
    });
  });

const payloadSchema = z
  .strictObject(
    {
      type: z.enum(PAYLOAD_TYPES, { error: `must be one of ${PAYLOAD_TYPES.join(', ')}` }),
      value: z.string(expected('text')).max(10_000, 'must be at most 10,000 characters'),
    },
    expected('an object { type, value }'),
  )
  .superRefine((p, ctx) => {
    if (typeof p.value !== 'string') return;
    if (p.type === 'number' && parseNumber(p.value) === undefined)
      ctx.addIssue({ code: 'custom', path: ['value'], message: `${quote(p.value)} is not a number` });
    if (p.type === 'json') {
      try {
        JSON.parse(p.value);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['value'], message: `${quote(p.value)} is not valid JSON` });
      }
    }
  });

const variantSchema = z.strictObject(
  {
    name: z
      .string(expected('a variant name'))
      .regex(VARIANT_NAME, {
        error: (iss) => `${quote(iss.input)} is not a variant name (letters, digits, _ . -; at most 64)`,
      })
      .refine((n) => n !== 'disabled', '`disabled` is the name of the answer when the flag is off'),
    weight: z
      .number(expected('a whole number'))
      .refine(Number.isInteger, 'must be a whole number (thousandths: 500 is half)')
      .min(0, 'must be 0 or more')
      .max(VARIANT_WEIGHT_TOTAL, `must be at most ${VARIANT_WEIGHT_TOTAL}`),
    payload: payloadSchema.optional(),
    overrides: z
      .array(
        z.strictObject(
          {
            attribute: attributeName,
            values: z
              .array(text(200), expected('a list of values'))
              .min(1, 'must list at least one value')
              .max(MAX_VALUES, `must list at most ${MAX_VALUES} values`),
          },
          expected('an object { attribute, values }'),
        ),
        expected('a list of overrides'),
      )
      .max(20, 'must list at most 20 overrides')
      .optional(),
  },
  expected('an object { name, weight, payload?, overrides? }'),
);

/** A value pinned to two variants on one attribute: the first would always win, the second never. */
function pinnedOnce(vs: unknown[], ctx: $RefinementCtx<unknown[]>): void {
  const pinned = new Map<string, string>();
  vs.forEach((v, i) => {
    const { name, overrides } = (v ?? {}) as { name?: unknown; overrides?: unknown };
    if (!Array.isArray(overrides)) return;
    overrides.forEach((o: { attribute?: unknown; values?: unknown }, j) => {
      if (typeof o?.attribute !== 'string' || !Array.isArray(o.values)) return;
      for (const value of o.values) {
        const at = `${o.attribute}=${String(value)}`;
        const first = pinned.get(at);
        if (first !== undefined && first !== name)
          ctx.addIssue({
            code: 'custom',
            path: [i, 'overrides', j],
            message: `${quote(at)} pins both ${first} and ${String(name)}: a context gets one variant`,
          });
        else pinned.set(at, String(name));
      }
    });
  });
}

const isoDateTime = z.iso.datetime({
  offset: true,
  error: (iss) =>
    iss.input === undefined
      ? 'is required'
      : `${quote(iss.input)} is not an ISO 8601 date-time with a zone, like 2026-05-01T09:00:00Z`,
});

/**
 * What a rollout can hash: not a reserved name, not the evaluation time (a user would move in
 * and out of the rollout at every call), and not a context field in the wrong case (`userid`
 * would be read from an attribute no application sends, leaving the rollout off for everyone).
 */
function checkStickiness(name: string, ctx: $RefinementCtx<string>): void {
  if (RESERVED_ATTRIBUTES.has(name)) ctx.addIssue({ code: 'custom', message: reserved(name) });
  else if (name === 'currentTime')
    ctx.addIssue({
      code: 'custom',
      message: '`currentTime` changes at every evaluation: a user would move in and out of the rollout',
    });
  else {
    const meant = CONTEXT_FIELDS.find((f) => f !== name && f.toLowerCase() === name.toLowerCase());
    if (meant)
      ctx.addIssue({
        code: 'custom',
        message: `${quote(name)} is not a context field: did you mean ${meant}? (names are case-sensitive)`,
      });
  }
}

// Cross-field checks run even when a field failed (zod skips them by default), so every issue is reported.
const always = { when: (p: { value: unknown }) => typeof p.value === 'object' && p.value !== null };

/** Duplicates in a list, each reported at its index. */
function unique(what: string) {
  return (list: unknown[], ctx: $RefinementCtx<unknown[]>) => {
    const seen = new Set<unknown>();
    list.forEach((v, i) => {
      if (seen.has(v))
        ctx.addIssue({ code: 'custom', path: [i], message: `${quote(v)} is listed twice in ${what}` });
      seen.add(v);
    });
  };
}

export const flagSchema = z
  .strictObject(
    {
      name: flagName,
      description: text(500),
      type: z.enum(FLAG_TYPES, { error: `must be one of ${FLAG_TYPES.join(', ')}` }),
      /** Who answers for the flag: a team or a person, free text. */
      owner: text(100),
      /** The kill switch: when false the flag is off for everyone, whatever the other rules say. */
      enabled: z.boolean(expected('true or false')).default(false),
      /** On only in these environments; an empty list is on in none. */
      environments: z
        .array(
          z.string(expected('an environment name')).regex(ENVIRONMENT_NAME, {
            error: (iss) =>
              `${quote(iss.input)} is not an environment name (lower-case letters, digits and dashes)`,
          }),
          expected('a list of environment names'),
        )
        .superRefine(unique('environments'))
        .default([]),
      include: targets,
      exclude: targets,
      /** All must hold (AND). */
      conditions: z
        .array(conditionSchema, expected('a list of conditions'))
        .max(50, 'must list at most 50 conditions')
        .default([]),
      rollout: z
        .number(expected('a percentage from 0 to 100'))
        .min(0, 'must be from 0 to 100')
        .max(100, 'must be from 0 to 100')
        .refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-6, 'must have at most two decimals')
        .default(100),
      /** `userId`, `guildId`, or the name of a context attribute. */
      stickiness: z
        .string(expected('userId, guildId or an attribute name'))
        .regex(ATTRIBUTE_NAME, {
          error: (iss) => `${quote(iss.input)} is not userId, guildId or an attribute name`,
        })
        .superRefine(checkStickiness)
        .default('userId'),
      /** Hashed with the stickiness value; default: the flag's name. Flags sharing a group share buckets. */
      group: text(100).optional(),
      start: isoDateTime.optional(),
      end: isoDateTime.optional(),
      /** Flags that must be on, for the same context, for this one to be on. */
      prerequisites: z
        .array(flagName, expected('a list of flag names'))
        .max(20, 'must list at most 20 flags')
        .superRefine(unique('prerequisites'))
        .default([]),
      variants: z
        .array(variantSchema, expected('a list of variants'))
        .max(100, 'must list at most 100 variants')
        .superRefine((vs, ctx) => {
          unique('variants')(
            vs.map((v) => v?.name),
            ctx,
          );
          pinnedOnce(vs, ctx);
          const sum = vs.reduce((a, v) => a + (typeof v?.weight === 'number' ? v.weight : 0), 0);
          if (vs.length > 0 && sum !== VARIANT_WEIGHT_TOTAL)
            ctx.addIssue({
              code: 'custom',
              message: `weights must add up to ${VARIANT_WEIGHT_TOTAL} (thousandths, as in Unleash), they add up to ${sum}`,
            });
        })
        .default([]),
      /** For the automatic kill: this many errors reported within windowMs switch the flag off. */
      errorThreshold: z
        .strictObject(
          {
            errors: z
              .number(expected('a whole number'))
              .refine(Number.isInteger, 'must be a whole number')
              .min(1, 'must be at least 1')
              .max(1_000_000, 'must be at most 1,000,000'),
            windowMs: z
              .number(expected('a duration in milliseconds'))
              .refine(Number.isInteger, 'must be whole milliseconds')
              .min(1000, 'must be at least 1000 (1 s)')
              .max(86_400_000, 'must be at most 86400000 (24 h)'),
          },
          expected('an object { errors, windowMs }'),
        )
        .optional(),
      archived: z.boolean(expected('true or false')).default(false),
      /** How much harm a wrong change does; changes of a flag whose level needs approvals become change requests. */
      impact: z.enum(FLAG_IMPACTS, { error: `must be one of ${FLAG_IMPACTS.join(', ')}` }).default('low'),
    },
    expected('an object'),
  )
  .superRefine((f, ctx) => {
    if (typeof f.start === 'string' && typeof f.end === 'string' && Date.parse(f.end) <= Date.parse(f.start))
      ctx.addIssue({ code: 'custom', path: ['end'], message: `must be after start (${f.start})` });
    if (Array.isArray(f.prerequisites))
      f.prerequisites.forEach((p, i) => {
        if (p === f.name)
          ctx.addIssue({
            code: 'custom',
            path: ['prerequisites', i],
            message: 'a flag cannot require itself',
          });
      });
  }, always);

// The plain types of model.ts are what applications see; the compiler keeps them this schema's.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameDefinition: Same<z.output<typeof flagSchema>, FlagDefinition> = true;
const sameInput: Same<z.input<typeof flagSchema>, FlagInput> = true;
void sameDefinition;
void sameInput;

export type FlagParse = { ok: true; flag: FlagDefinition } | { ok: false; errors: string[] };

/** One line per issue, each starting with its field: `rollout: must be from 0 to 100`. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.flatMap((iss) => {
    const at = toDotPath(iss.path);
    if (iss.code === 'unrecognized_keys')
      return iss.keys.map((k) => `${at ? `${at}.` : ''}${k}: unknown field`);
    return [`${at || 'flag'}: ${iss.message}`];
  });
}

/** Validates a flag written by a person or read back from storage; never throws. */
export function parseFlag(input: unknown): FlagParse {
  const r = flagSchema.safeParse(input);
  return r.success ? { ok: true, flag: r.data } : { ok: false, errors: formatIssues(r.error) };
}
