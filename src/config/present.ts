import type { RegisteredKey } from './registry.js';

/** What users see instead of a sensitive value. */
export const MASK = '••••••';
/** What users see for a key that has no value (an optional key's default). */
export const UNSET = '(not set)';

const isUnset = (value: unknown) => value === null || value === undefined;

/**
 * A value as users see it: formatted, masked when the key is sensitive. The one place a value is
 * turned into text for a person, so no view can forget the mask.
 */
export function present(def: RegisteredKey, value: unknown): string {
  if (isUnset(value)) return UNSET;
  if (def.sensitive) return MASK;
  try {
    return def.format(value as never);
  } catch {
    return JSON.stringify(value);
  }
}

/** A value for structured output (JSON, audit views, exports): itself, or MASK when sensitive. */
export function masked(def: RegisteredKey | undefined, value: unknown): unknown {
  return def?.sensitive && !isUnset(value) ? MASK : value;
}

/** Whether two values of a key are the same setting (compared as the text they format to). */
export function sameValue(def: RegisteredKey, a: unknown, b: unknown): boolean {
  if (isUnset(a) || isUnset(b)) return isUnset(a) && isUnset(b);
  return def.format(a as never) === def.format(b as never);
}
