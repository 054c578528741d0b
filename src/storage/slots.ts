// What a stored value belongs to: one (key, scope) slot. The names of slots are part of how
// values are stored (document ids), so they are defined here, under everything that stores them.

/**
 * Where a value applies. A value is looked up from the most specific layer to the least:
 * `guild:<id>` → `env:<name>` → `global` → the key's default.
 */
export type Scope = 'global' | `env:${string}` | `guild:${string}`;
export type ScopeKind = 'global' | 'env' | 'guild';
export const GLOBAL: Scope = 'global';

/**
 * A slot is one (key, scope): it has its own versions, current value and audit rows. Its id is
 * the key itself for the global scope (so data written before scopes existed is the global layer,
 * with no migration) and `KEY|scope` for an override; every storage rule works on slot ids.
 */
export function slotId(key: string, scope: Scope = GLOBAL): string {
  return scope === GLOBAL ? key : `${key}|${scope}`;
}

/** The key and scope of a slot id. */
export function splitSlot(slot: string): { key: string; scope: Scope } {
  const at = slot.indexOf('|');
  return at < 0
    ? { key: slot, scope: GLOBAL }
    : { key: slot.slice(0, at), scope: slot.slice(at + 1) as Scope };
}

export const keyOfSlot = (slot: string): string => splitSlot(slot).key;

export function kindOf(scope: Scope): ScopeKind {
  return scope === GLOBAL ? 'global' : scope.startsWith('env:') ? 'env' : 'guild';
}
