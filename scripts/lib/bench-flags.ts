/**
 * Flag evaluation next to unleash-client's, for `npm run bench` and for the compatibility tests:
 * an offline Unleash (bootstrap data, no request, no metrics), a translation of our flags and
 * contexts into Unleash's, and the timing. unleash-client is a dev dependency: nothing in src/
 * imports this file.
 */
import { once } from 'node:events';
import { InMemStorageProvider, PayloadType, Unleash, UnleashEvents, type Context } from 'unleash-client';
import type { ClientFeaturesResponse } from 'unleash-client';
import { Operator } from 'unleash-client/lib/strategy/strategy.js';
import { FlagSet } from '@config-bot/client/flags';
import type {
  FlagContext,
  FlagDefinition,
  FlagInput,
  Operator as OurOperator,
} from '@config-bot/client/flags';

type UnleashFeature = ClientFeaturesResponse['features'][number];
type UnleashStrategy = NonNullable<UnleashFeature['strategies']>[number];
type UnleashConstraint = UnleashStrategy['constraints'][number];

/**
 * An Unleash client that evaluates `features` and never touches the network: bootstrap data
 * instead of a fetch (`refreshInterval: 0` makes the poller return before any request), metrics
 * disabled (no registration, no sends), an in-memory backup instead of a file in the temp dir,
 * and started by hand. `url` is required by the SDK but never contacted. Resolves once it
 * answers; throws if it reported an error or a warning on the way.
 */
export async function offlineUnleash(
  features: UnleashFeature[],
  url = 'http://127.0.0.1:9/',
): Promise<Unleash> {
  const unleash = new Unleash({
    appName: 'config-bot-flags',
    url,
    refreshInterval: 0,
    disableMetrics: true,
    metricsInterval: 0,
    disableAutoStart: true,
    bootstrap: { data: features },
    bootstrapOverride: true,
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
  });
  const problems: string[] = [];
  unleash.on(UnleashEvents.Error, (e: unknown) => problems.push(`error: ${String(e)}`));
  unleash.on(UnleashEvents.Warn, (w: unknown) => problems.push(`warn: ${String(w)}`));
  const ready = once(unleash, UnleashEvents.Ready);
  await unleash.start();
  await ready;
  if (problems.length) {
    unleash.destroy();
    throw new Error(`offline Unleash did not start cleanly: ${problems.join('; ')}`);
  }
  return unleash;
}

const OPERATORS: Partial<Record<OurOperator, Operator>> = {
  in: Operator.IN,
  not_in: Operator.NOT_IN,
  equals: Operator.IN,
  not_equals: Operator.NOT_IN,
  contains: Operator.STR_CONTAINS,
  starts_with: Operator.STR_STARTS_WITH,
  ends_with: Operator.STR_ENDS_WITH,
  regex: Operator.REGEX,
  in_cidr: Operator.IN_CIDR,
  num_eq: Operator.NUM_EQ,
  lt: Operator.NUM_LT,
  lte: Operator.NUM_LTE,
  gt: Operator.NUM_GT,
  gte: Operator.NUM_GTE,
  semver_eq: Operator.SEMVER_EQ,
  semver_lt: Operator.SEMVER_LT,
  semver_lte: Operator.SEMVER_LTE,
  semver_gt: Operator.SEMVER_GT,
  semver_gte: Operator.SEMVER_GTE,
};
/** Unleash's IN compares exactly: ours compare lower-cased with no equivalent there. */
const exactOnly = new Set<OurOperator>(['in', 'not_in', 'equals', 'not_equals']);

/**
 * The Unleash feature that behaves as `def` in `environment` (Unleash serves an SDK one
 * environment's configuration, so the environment is decided here, not by a constraint): one
 * flexibleRollout strategy with the conditions as constraints and the variants on the strategy,
 * prerequisites as dependencies. Throws for what has no Unleash equivalent here (include/exclude
 * lists, schedules, date conditions on an attribute).
 */
export function toUnleashFeature(def: FlagDefinition, environment: string): UnleashFeature {
  const unsupported = [
    def.include.users.length + def.include.roles.length + def.include.guilds.length ? 'include' : '',
    def.exclude.users.length + def.exclude.roles.length + def.exclude.guilds.length ? 'exclude' : '',
    def.start || def.end ? 'start/end' : '',
    ...def.conditions.map((c) =>
      OPERATORS[c.operator] && !(c.caseInsensitive && exactOnly.has(c.operator))
        ? ''
        : `condition ${c.operator}`,
    ),
  ].filter(Boolean);
  if (unsupported.length) throw new Error(`${def.name}: no Unleash equivalent for ${unsupported.join(', ')}`);
  const constraints: UnleashConstraint[] = def.conditions.map((c) => {
    const operator = OPERATORS[c.operator] as Operator;
    const list =
      [Operator.IN, Operator.NOT_IN, Operator.IN_CIDR].includes(operator) || operator.startsWith('STR_');
    const one = !list;
    return {
      contextName: c.attribute,
      operator,
      inverted: c.inverted === true,
      caseInsensitive: c.caseInsensitive === true,
      values: one ? [] : c.values,
      value: c.values[0],
    };
  });
  const group = def.group ?? def.name;
  const strategy: UnleashStrategy = {
    name: 'flexibleRollout',
    parameters: { rollout: String(def.rollout), stickiness: def.stickiness, groupId: group },
    constraints,
    variants: def.variants.map((v) => ({
      name: v.name,
      weight: v.weight,
      stickiness: def.stickiness,
      ...(v.payload ? { payload: { type: v.payload.type as PayloadType, value: v.payload.value } } : {}),
      ...(v.overrides
        ? { overrides: v.overrides.map((o) => ({ contextName: o.attribute, values: o.values })) }
        : {}),
    })),
  };
  return {
    name: def.name,
    enabled: def.enabled && !def.archived && def.environments.includes(environment),
    strategies: [strategy],
    dependencies: def.prerequisites.map((feature) => ({ feature })),
  };
}

/** Our context as Unleash reads it: the ids and environment at the top, attributes as properties. */
export function toUnleashContext(ctx: FlagContext): Context {
  const out: Context = { properties: { ...ctx.attributes } };
  if (ctx.userId !== undefined) out.userId = ctx.userId;
  if (ctx.guildId !== undefined) out.guildId = ctx.guildId;
  if (ctx.environment !== undefined) out.environment = ctx.environment;
  if (ctx.now !== undefined) out.currentTime = ctx.now;
  return out;
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Per-call cost of `fn`, from batches of calls timed together (as perCallNs in scripts/bench.ts). */
function perCallNs(fn: (i: number) => unknown, batches: number, perBatch: number): number[] {
  const out: number[] = [];
  let sink = 0;
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) if (fn(b * perBatch + i) === true) sink++;
    out.push(Number(process.hrtime.bigint() - t0) / perBatch);
  }
  if (sink < 0) process.stderr.write('');
  return out;
}

const base = {
  description: 'bench',
  type: 'release' as const,
  owner: 'bench',
  enabled: true,
  environments: ['production'],
};

/** A flag with a rollout, two conditions and a prerequisite, and the flag it requires. */
export const BENCH_FLAGS: FlagInput[] = [
  { ...base, name: 'bench-parent' },
  {
    ...base,
    name: 'bench-flag',
    rollout: 50,
    conditions: [
      { attribute: 'plan', operator: 'in', values: ['pro', 'team'] },
      { attribute: 'seats', operator: 'gt', values: ['5'] },
    ],
    prerequisites: ['bench-parent'],
  },
];

/**
 * flag_eval_ns_p50/_p99 (our isEnabled on BENCH_FLAGS), the same for unleash-client's isEnabled on
 * the equivalent features in the same run, their ratio (p50s; target ≤ 1.0) and flag_evals_per_s
 * (one core, from our p50). Contexts vary (1,000 users, plans and seat counts) so every branch runs.
 */
export async function benchFlags(quick: boolean): Promise<Record<string, number>> {
  const set = new FlagSet(BENCH_FLAGS, { environment: 'production' });
  const defs = set.names().map((n) => set.get(n) as FlagDefinition);
  const unleash = await offlineUnleash(defs.map((d) => toUnleashFeature(d, 'production')));
  try {
    const plans = ['pro', 'team', 'free'];
    const ours: FlagContext[] = Array.from({ length: 1000 }, (_, i) => ({
      userId: String(100_000_000_000_000_000n + BigInt(i * 7919)),
      environment: 'production',
      attributes: { plan: plans[i % 3] ?? 'pro', seats: String(i % 20) },
    }));
    const theirs = ours.map(toUnleashContext);
    const n = ours.length;
    const ourCall = (i: number) => set.isEnabled('bench-flag', ours[i % n]);
    const theirCall = (i: number) => unleash.isEnabled('bench-flag', theirs[i % n]);
    for (let i = 0; i < n; i++)
      if (ourCall(i) !== theirCall(i)) throw new Error(`bench flags disagree for ${ours[i]?.userId ?? i}`);
    const batches = quick ? 300 : 2000;
    for (let w = 0; w < 3; w++) {
      perCallNs(ourCall, 200, 1000);
      perCallNs(theirCall, 200, 1000);
    }
    const ourNs = perCallNs(ourCall, batches, 1000);
    const theirNs = perCallNs(theirCall, batches, 1000);
    const p50 = pct(ourNs, 50);
    return {
      flag_eval_ns_p50: p50,
      flag_eval_ns_p99: pct(ourNs, 99),
      unleash_eval_ns_p50: pct(theirNs, 50),
      unleash_eval_ns_p99: pct(theirNs, 99),
      flag_eval_vs_unleash_ratio: p50 / pct(theirNs, 50),
      flag_evals_per_s: 1e9 / p50,
    };
  } finally {
    unleash.destroy();
  }
}
