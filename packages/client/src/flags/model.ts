/**
 * A feature flag as data: a plain JSON document (strings, numbers, booleans, arrays; dates as ISO
 * 8601 strings) so it can be stored, versioned and sent to clients as it is. This module is its
 * shape as plain types and constants, with no imports: what applications see in the client's
 * declarations (no zod). `parseFlag` (schema.ts) is the one place that says what a valid flag is,
 * and a compile-time check there keeps its schema and these types the same.
 */

export const FLAG_TYPES = ['release', 'experiment', 'ops', 'permission'] as const;
/** As configuration keys' impact levels: APPROVALS_REQUIRED says how many approvals a change needs. */
export const FLAG_IMPACTS = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type FlagImpact = (typeof FLAG_IMPACTS)[number];
export type FlagType = (typeof FLAG_TYPES)[number];

/** Operators on text, where `caseInsensitive` means something (as Unleash's STR_* and REGEX). */
const TEXT_OPERATOR_NAMES = [
  'equals',
  'not_equals',
  'contains',
  'starts_with',
  'ends_with',
  'regex',
] as const;

export const OPERATORS = [
  'in',
  'not_in',
  ...TEXT_OPERATOR_NAMES,
  'in_cidr',
  'num_eq',
  'lt',
  'lte',
  'gt',
  'gte',
  'before',
  'after',
  'semver_eq',
  'semver_lt',
  'semver_lte',
  'semver_gt',
  'semver_gte',
] as const;
export type Operator = (typeof OPERATORS)[number];

/** Operators that compare with one value; the others match any of their values. */
export const SINGLE_VALUE_OPERATORS: ReadonlySet<Operator> = new Set([
  'equals',
  'not_equals',
  'regex',
  'num_eq',
  'lt',
  'lte',
  'gt',
  'gte',
  'before',
  'after',
  'semver_eq',
  'semver_lt',
  'semver_lte',
  'semver_gt',
  'semver_gte',
]);

export const TEXT_OPERATORS: ReadonlySet<Operator> = new Set(TEXT_OPERATOR_NAMES);

/** Operators whose list of values may be empty (Unleash's meaning: `in` nothing never holds, `not_in` nothing always). */
export const EMPTY_LIST_OPERATORS: ReadonlySet<Operator> = new Set(['in', 'not_in']);

/** Unleash's payload types, so a variant moves between the two systems unchanged. */
export const PAYLOAD_TYPES = ['string', 'json', 'csv', 'number'] as const;

/** Weights are Unleash's: integers in thousandths, summing to exactly 1000 when any are given. */
export const VARIANT_WEIGHT_TOTAL = 1000;

export const FLAG_NAME = /^[a-z][a-z0-9-]{1,63}$/;
/** Context attribute names (also usable as stickiness): `plan`, `app.version`, `country_code`. */
export const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/**
 * Names no context can hold as its own attribute: a JSON body or an object literal with them sets
 * or shadows the prototype (the API refuses them), so a rule on one could never be satisfied.
 */
export const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** The context's own fields, read by these exact names (not from `attributes`). */
export const CONTEXT_FIELDS = ['userId', 'guildId', 'environment', 'currentTime'] as const;

/** What an application passes to evaluate a flag. Every field is optional; a flag says what it needs. */
export interface FlagContext {
  userId?: string;
  /** The Discord server (guild) the request comes from. */
  guildId?: string;
  roles?: readonly string[];
  /** Default: the environment the FlagSet was built for. */
  environment?: string;
  attributes?: Readonly<Record<string, string>>;
  /** Default: the current time. For schedules and tests. */
  now?: Date;
}

export type PayloadType = (typeof PAYLOAD_TYPES)[number];

// Type aliases rather than interfaces: a flag is a plain JSON document, and an alias stays
// assignable to Record<string, unknown> where one is handled as such.

/** Discord ids a flag is forced on (`include`) or off (`exclude`) for. */
export type FlagTargets = {
  users: string[];
  roles: string[];
  guilds: string[];
};

/** A rule on a context attribute; a flag's conditions must all hold. */
export type Condition = {
  attribute: string;
  operator: Operator;
  values: string[];
  /** Holds when the operator does not (Unleash's `inverted`); absent is false. */
  inverted?: boolean;
  /** Text operators compare lower-cased (Unleash's `caseInsensitive`); absent is false. */
  caseInsensitive?: boolean;
};

export type VariantPayload = {
  type: PayloadType;
  value: string;
};

/** Contexts whose attribute has one of the values get the variant, whatever its weight (Unleash's overrides). */
export type VariantOverride = {
  attribute: string;
  values: string[];
};

export type Variant = {
  name: string;
  /** Thousandths: all of a flag's weights add up to VARIANT_WEIGHT_TOTAL. */
  weight: number;
  payload?: VariantPayload;
  /** Checked before the weights, variant by variant in order: the first that matches is chosen. */
  overrides?: VariantOverride[];
};

/** A flag as stored and evaluated: every default filled in (the fields are described in schema.ts). */
export type FlagDefinition = {
  name: string;
  description: string;
  type: FlagType;
  owner: string;
  enabled: boolean;
  environments: string[];
  include: FlagTargets;
  exclude: FlagTargets;
  conditions: Condition[];
  rollout: number;
  stickiness: string;
  group?: string;
  start?: string;
  end?: string;
  prerequisites: string[];
  variants: Variant[];
  errorThreshold?: { errors: number; windowMs: number };
  archived: boolean;
  impact: FlagImpact;
};

/** Fields that have a default, which a flag as written may leave out. */
type Defaulted =
  | 'enabled'
  | 'environments'
  | 'include'
  | 'exclude'
  | 'conditions'
  | 'rollout'
  | 'stickiness'
  | 'prerequisites'
  | 'variants'
  | 'archived'
  | 'impact';

/** A flag as written: fields with defaults may be left out, and so may a target list. */
export type FlagInput = Omit<FlagDefinition, Defaulted> &
  Partial<Omit<Pick<FlagDefinition, Defaulted>, 'include' | 'exclude'>> & {
    include?: Partial<FlagTargets>;
    exclude?: Partial<FlagTargets>;
  };
