/**
 * Unleash's hashing: the rollout bucket of a stickiness value, and the seeds variants hash with.
 *
 * Buckets and variants use murmurhash3js, the library unleash-client itself hashes with, with
 * Unleash's seeds and normalizers, so they are identical by construction (test/flags proves it on
 * 10,000 ids). See docs/flags.md for what differs from Unleash.
 */
import murmurhash3js from 'murmurhash3js';

/** Unleash's: strategies hash with seed 0 into 1..100, variants with this seed into 1..total weight. */
const STRATEGY_SEED = 0;
export const VARIANT_SEED = 86028157;
export const VARIANT_NORMALIZER = 1000;

/** Unleash's rollout bucket, 1..100, of a stickiness value in a group (for `/flag evaluate` and tests). */
export function rolloutBucket(group: string, value: string): number {
  return bucket(`${group}:`, value);
}

/** `prefix` is `<group>:`, precomputed per flag. */
export function bucket(prefix: string, value: string): number {
  return (murmurhash3js.x86.hash32(prefix + value, STRATEGY_SEED) % 100) + 1;
}
