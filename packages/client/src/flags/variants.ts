/**
 * Variants: the answers a flag's variants compile to, and Unleash's choice of one for a context.
 */
import murmurhash3js from 'murmurhash3js';
import { VARIANT_NORMALIZER, VARIANT_SEED } from './buckets.js';
import { keyOf, lookup, type Key } from './context.js';
import type { FlagContext, FlagDefinition, VariantPayload } from './model.js';

export interface FlagVariant {
  /** `disabled` when the flag is off or has no variants, as in Unleash. */
  name: string;
  /** True when a variant was chosen. */
  enabled: boolean;
  /** Whether the flag itself is on for this context (Unleash's `feature_enabled`). */
  featureEnabled: boolean;
  payload?: VariantPayload;
}

/** A context value that pins a variant, in the order Unleash checks them (variant by variant). */
interface Pin {
  key: Key;
  values: ReadonlySet<string>;
  answer: FlagVariant;
}

/** Cumulative weights, the frozen answer for each variant and the overrides; null when the flag has none. */
export type CompiledVariants = { upTo: number[]; answers: FlagVariant[]; pins: Pin[] } | null;

/** What `pickVariant` reads of a compiled flag. */
interface VariantSource {
  variants: CompiledVariants;
  stickiness: Key;
  /** `<group>:`, the hashed text before the stickiness value. */
  prefix: string;
}

export const DISABLED_VARIANT: FlagVariant = Object.freeze({
  name: 'disabled',
  enabled: false,
  featureEnabled: false,
});
export const NO_VARIANT: FlagVariant = Object.freeze({
  name: 'disabled',
  enabled: false,
  featureEnabled: true,
});

export function compileVariants(def: FlagDefinition): CompiledVariants {
  if (def.variants.length === 0) return null;
  let sum = 0;
  const upTo: number[] = [];
  const answers: FlagVariant[] = [];
  const pins: Pin[] = [];
  for (const v of def.variants) {
    upTo.push((sum += v.weight));
    const a: FlagVariant = { name: v.name, enabled: true, featureEnabled: true };
    if (v.payload) a.payload = Object.freeze({ ...v.payload });
    const answer = Object.freeze(a);
    answers.push(answer);
    for (const o of v.overrides ?? [])
      pins.push({ key: keyOf(o.attribute), values: new Set(o.values), answer });
  }
  return { upTo, answers, pins };
}

/** Unleash's variant choice; a context with no stickiness value gets the first variant (Unleash picks at random). */
export function pickVariant(
  f: VariantSource,
  ctx: FlagContext,
  environment: string | undefined,
): FlagVariant {
  if (!f.variants) return NO_VARIANT;
  const { upTo, answers, pins } = f.variants;
  for (const pin of pins) {
    const v = lookup(pin.key, ctx, environment);
    if (v !== undefined && pin.values.has(v)) return pin.answer;
  }
  const seed = lookup(f.stickiness, ctx, environment);
  const target = seed
    ? (murmurhash3js.x86.hash32(f.prefix + seed, VARIANT_SEED) % VARIANT_NORMALIZER) + 1
    : 1;
  for (let i = 0; i < upTo.length; i++) {
    const weight = (upTo[i] ?? 0) - (upTo[i - 1] ?? 0);
    if (weight > 0 && (upTo[i] ?? 0) >= target) return answers[i] ?? NO_VARIANT;
  }
  return NO_VARIANT;
}
