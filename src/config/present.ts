import type { Actor } from '../storage/config-models.js';
import type { RegisteredKey } from './registry.js';
import type { Scope } from './scopes.js';
import type { ConfigEntry, Layer, SnapshotEntry } from './types.js';

import { MASK } from '../base/text.js';

export { MASK };
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
export function sameValue(def: { format(value: never): string }, a: unknown, b: unknown): boolean {
  if (isUnset(a) || isUnset(b)) return isUnset(a) && isUnset(b);
  return def.format(a as never) === def.format(b as never);
}

/** What a view needs of a key's current state: its value and where it came from. */
export interface CurrentState {
  value: unknown;
  version: number;
  updatedBy: Actor | undefined;
  updatedAt: Date | undefined;
}

/** One key with its metadata, as /config view and list (and the console's JSON) show it. */
export function entryOf(
  def: RegisteredKey,
  cur: CurrentState,
  where: { scope: Scope; overrides: number; layers?: Layer[] },
): ConfigEntry {
  return {
    scope: where.scope,
    scopes: def.scopes,
    overrides: where.overrides,
    ...(where.layers ? { layers: where.layers } : {}),
    key: def.key,
    category: def.category,
    description: def.description,
    type: def.type,
    value: masked(def, cur.value),
    display: present(def, cur.value),
    defaultDisplay: present(def, def.default),
    isDefault: sameValue(def, cur.value, def.default),
    version: cur.version,
    updatedBy: cur.updatedBy,
    updatedAt: cur.updatedAt,
    sensitive: def.sensitive,
    requiresRestart: def.requiresRestart,
  };
}

/** One key in a snapshot of the configuration (an export), masked when sensitive. */
export function snapshotOf(def: RegisteredKey, cur: CurrentState): SnapshotEntry {
  return {
    key: def.key,
    value: masked(def, cur.value),
    display: present(def, cur.value),
    version: cur.version,
    updatedAt: cur.updatedAt,
    updatedBy: cur.updatedBy,
    sensitive: def.sensitive,
  };
}

/** A stored version as users may see it: its value masked when the key is sensitive. */
export function shownVersion<T extends { value: unknown }>(def: RegisteredKey, row: T): T {
  return { ...row, value: masked(def, row.value) };
}
