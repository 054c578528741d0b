import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  compileRegex,
  parseAddress,
  parseNumber,
  parseSemver,
  type Condition,
  type FlagContext,
  type FlagInput,
  type Operator,
} from '@config-bot/client/flags';

/**
 * Unleash's client specification (test/fixtures/unleash-spec, Apache-2.0) read as our flags: each
 * feature converted to a flag when our model can say what it says, or the reason it cannot yet
 * (what issue #27 still has to add); each test case's context converted to ours. Conversion is
 * strict: a feature is converted only where Unleash and our evaluator must give the same answer
 * for every context, and a context only where the flag's stickiness reads the same value.
 */

export const SPEC_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'unleash-spec');

interface UnleashConstraint {
  contextName: string;
  operator: string;
  values?: string[];
  value?: string | number;
  inverted?: boolean;
  caseInsensitive?: boolean;
}
interface UnleashStrategy {
  name: string;
  parameters?: Record<string, string | number>;
  constraints?: UnleashConstraint[];
  segments?: number[];
  variants?: unknown[];
}
interface UnleashVariant {
  name: string;
  weight: number;
  stickiness?: string;
  payload?: { type: 'string' | 'json' | 'csv' | 'number'; value: string };
  overrides?: { contextName: string; values: string[] }[];
}
export interface UnleashFeature {
  name: string;
  enabled: boolean;
  strategies?: UnleashStrategy[];
  variants?: UnleashVariant[];
  dependencies?: unknown[];
}
export interface UnleashContext {
  userId?: string;
  sessionId?: string;
  remoteAddress?: string;
  environment?: string;
  appName?: string;
  currentTime?: string;
  properties?: Record<string, string>;
}
export interface SpecCase {
  description: string;
  context: UnleashContext;
  toggleName: string;
  expectedResult: boolean | { name: string; enabled: boolean; feature_enabled?: boolean; payload?: unknown };
}
export interface SpecFile {
  name: string;
  features: UnleashFeature[];
  tests: SpecCase[];
  variantTests: SpecCase[];
}

/** Every file of the specification (index.json names them, in order). */
export function specFiles(): SpecFile[] {
  const names = JSON.parse(readFileSync(path.join(SPEC_DIR, 'index.json'), 'utf8')) as string[];
  return names.map((name) => {
    const d = JSON.parse(readFileSync(path.join(SPEC_DIR, name), 'utf8')) as {
      state: { features?: UnleashFeature[]; events?: DeltaEvent[] };
      tests?: SpecCase[];
      variantTests?: SpecCase[];
    };
    const features = d.state.events ? replay(d.state.events) : (d.state.features ?? []);
    return { name, features, tests: d.tests ?? [], variantTests: d.variantTests ?? [] };
  });
}

export const specFileNames = (): string[] => readdirSync(SPEC_DIR).filter((f) => /^\d.*\.json$/.test(f));

/** The delta API's events (files 19 and 20): what a client holds once it applied them in order. */
type DeltaEvent =
  | { type: 'hydration'; features: UnleashFeature[] }
  | { type: 'feature-updated'; feature: UnleashFeature }
  | { type: 'feature-removed'; featureName: string }
  | { type: 'segment-updated' | 'segment-removed' };

function replay(events: DeltaEvent[]): UnleashFeature[] {
  const held = new Map<string, UnleashFeature>();
  for (const e of events) {
    if (e.type === 'hydration') {
      held.clear();
      for (const f of e.features) held.set(f.name, f);
    } else if (e.type === 'feature-updated') held.set(e.feature.name, e.feature);
    else if (e.type === 'feature-removed') held.delete(e.featureName);
  }
  return [...held.values()];
}

const OPERATOR: Record<string, Operator> = {
  IN: 'in',
  NOT_IN: 'not_in',
  STR_CONTAINS: 'contains',
  STR_STARTS_WITH: 'starts_with',
  STR_ENDS_WITH: 'ends_with',
  NUM_EQ: 'num_eq',
  NUM_GT: 'gt',
  NUM_GTE: 'gte',
  NUM_LT: 'lt',
  NUM_LTE: 'lte',
  DATE_AFTER: 'after',
  DATE_BEFORE: 'before',
  SEMVER_EQ: 'semver_eq',
  SEMVER_GT: 'semver_gt',
  SEMVER_GTE: 'semver_gte',
  SEMVER_LT: 'semver_lt',
  SEMVER_LTE: 'semver_lte',
  REGEX: 'regex',
  IN_CIDR: 'in_cidr',
};
const TEXT = new Set<Operator>(['contains', 'starts_with', 'ends_with', 'regex']);
const LIST = new Set<Operator>(['in', 'not_in', 'contains', 'starts_with', 'ends_with', 'in_cidr']);

/**
 * An Unleash constraint as our condition, giving the same answer for every context. Unleash
 * evaluates what our validation refuses: a range that is not one is skipped in a list, and a
 * constraint it cannot evaluate at all (an unknown operator, a pattern RE2 refuses, a number that
 * is not one) never holds. The first are dropped; the second become `in` nothing, which never
 * holds either (and, inverted, always does). node-semver reads `v2.0.0` as 2.0.0: so do we.
 */
function condition(c: UnleashConstraint): Condition {
  const operator = OPERATOR[c.operator];
  const never = {
    attribute: c.contextName,
    operator: 'in' as const,
    values: [],
    ...(c.inverted ? { inverted: true } : {}),
  };
  if (!operator) return never;
  let values = LIST.has(operator) ? (c.values ?? []) : [String(c.value ?? c.values?.[0] ?? '')];
  if (operator === 'in_cidr') values = values.filter((v) => parseAddress(v) !== undefined);
  if (operator === 'in_cidr' && !values.length) return never;
  if (operator.startsWith('semver')) values = values.map((v) => v.replace(/^[v=]+/, ''));
  if (operator.startsWith('semver') && values.some((v) => parseSemver(v) === undefined)) return never;
  if (operator === 'regex' && 'error' in compileRegex(values[0] ?? '')) return never;
  if (
    ['num_eq', 'lt', 'lte', 'gt', 'gte'].includes(operator) &&
    values.some((v) => parseNumber(v) === undefined)
  )
    return never;
  return {
    attribute: c.contextName,
    operator,
    values,
    ...(c.inverted ? { inverted: true } : {}),
    // Unleash reads caseInsensitive on its text operators only.
    ...(c.caseInsensitive && TEXT.has(operator) ? { caseInsensitive: true } : {}),
  };
}

/** The flag, and the stickiness whose absence from a context our evaluator answers differently. */
export type Converted = { flag: FlagInput; unleashDefaultStickiness: boolean } | { notYet: string };

const split = (list: unknown) =>
  String(list ?? '')
    .split(/\s*,\s*/)
    .filter((v) => v !== '');

/** A feature as one of our flags (named `flagName`, in `environments`), or what #27 has still to add. */
export function convertFeature(f: UnleashFeature, flagName: string, environments: string[]): Converted {
  const strategies = f.strategies ?? [];
  if (strategies.length > 1) return { notYet: 'several strategies (rule sets)' };
  if (f.dependencies?.length) return { notYet: 'dependencies' };
  const variants = f.variants ?? [];
  if (variants.length && variants.reduce((a, v) => a + v.weight, 0) !== 1000)
    return { notYet: 'variant weights as Unleash stores them (not adding up to 1000)' };
  const base: FlagInput = {
    name: flagName,
    description: f.name,
    type: 'release',
    owner: 'unleash-spec',
    enabled: f.enabled,
    environments,
    variants: variants.map((v) => ({
      name: v.name,
      weight: v.weight,
      ...(v.payload ? { payload: v.payload } : {}),
      ...(v.overrides?.length
        ? { overrides: v.overrides.map((o) => ({ attribute: o.contextName, values: o.values })) }
        : {}),
    })),
    // Unleash hashes variants with the feature's name.
    group: f.name,
  };
  const variantStickiness = variants[0]?.stickiness ?? 'default';
  const s = strategies[0];
  if (!s) {
    // No strategy: on whenever the feature is; variants by the flag's stickiness.
    return sticky(base, variantStickiness, 100);
  }
  if (s.segments?.length) return { notYet: 'segments' };
  if (s.variants?.length) return { notYet: 'strategy variants' };
  const conditions = (s.constraints ?? []).map(condition);
  const p = s.parameters ?? {};
  const flag: FlagInput = { ...base, conditions };
  switch (s.name) {
    case 'default':
      return sticky(flag, variantStickiness, 100);
    case 'userWithId':
      return sticky(
        {
          ...flag,
          conditions: [...conditions, { attribute: 'userId', operator: 'in', values: split(p.userIds) }],
        },
        variantStickiness,
        100,
      );
    case 'remoteAddress':
      return sticky(
        {
          ...flag,
          conditions: [
            ...conditions,
            condition({ contextName: 'remoteAddress', operator: 'IN_CIDR', values: split(p.IPs) }),
          ],
        },
        variantStickiness,
        100,
      );
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId':
      return rollout(
        flag,
        Number(p.percentage),
        s.name === 'gradualRolloutUserId' ? 'userId' : 'sessionId',
        p.groupId,
      );
    case 'gradualRolloutRandom': {
      const pct = Number(p.percentage);
      if (pct !== 0 && pct !== 100) return { notYet: 'a random rollout' };
      return sticky({ ...flag, rollout: pct }, variantStickiness, pct);
    }
    case 'flexibleRollout':
      return rollout(flag, Number(p.rollout), String(p.stickiness ?? 'default'), p.groupId ?? f.name);
    default:
      return { notYet: `strategy ${s.name}` };
  }
}

function rollout(flag: FlagInput, pct: number, stickiness: string, groupId: unknown): Converted {
  const group = String(groupId ?? '');
  if (group !== flag.group && flag.variants?.length)
    return { notYet: 'variants hashed apart from the rollout group' };
  if (pct <= 0) return sticky({ ...flag, rollout: 0 }, stickiness, 0);
  if (stickiness === 'random')
    return pct >= 100 ? sticky(flag, 'default', 100) : { notYet: 'a random rollout' };
  // Unleash answers a 100 % rollout off when the context lacks the stickiness value (our 100 % is everyone).
  if (pct >= 100 && stickiness !== 'default')
    return { notYet: 'a 100 % rollout off without its stickiness value' };
  if (!group) return { notYet: 'an empty rollout group' };
  return sticky({ ...flag, rollout: pct, group }, stickiness, pct);
}

/** Unleash's `default` stickiness is userId, then sessionId, then random: ours reads userId only. */
function sticky(flag: FlagInput, stickiness: string, pct: number): Converted {
  const isDefault = stickiness === 'default';
  const needed = (pct > 0 && pct < 100) || (flag.variants?.length ?? 0) > 0;
  return {
    flag: { ...flag, stickiness: isDefault ? 'userId' : stickiness },
    unleashDefaultStickiness: isDefault && needed,
  };
}

/** An Unleash context as ours: sessionId, remoteAddress, appName and properties are attributes. */
export function convertContext(c: UnleashContext): FlagContext {
  const attributes: Record<string, string> = { ...(c.properties ?? {}) };
  for (const k of ['sessionId', 'remoteAddress', 'appName'] as const)
    if (c[k] !== undefined) attributes[k] = c[k];
  return {
    ...(c.userId !== undefined ? { userId: c.userId } : {}),
    ...(c.environment !== undefined ? { environment: c.environment } : {}),
    ...(c.currentTime !== undefined ? { now: new Date(c.currentTime) } : {}),
    attributes,
  };
}
