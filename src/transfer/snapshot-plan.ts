import { present, sameValue } from '../config/present.js';
import { storedValue } from '../config/proposals.js';
import { GLOBAL, slotId, type Scope } from '../config/scopes.js';
import type { ConfigService } from '../config/service.js';
import { isUserError } from '../base/errors.js';
import { bySlot, type SlotSet, type SlotValue } from './snapshots.js';

/** A value as users see it in a snapshot view, diff or preview: masked when sensitive. */
export function shown(v: SlotValue | undefined): string {
  if (!v) return '(no value)';
  if (v.unreadable) return '(cannot be decrypted)';
  return present(v.def, v.value);
}

/** Whether two recorded values of one slot are the same; the same version always is. */
function same(a: SlotValue, b: SlotValue): boolean {
  if (a.version === b.version) return true;
  if (a.unreadable || b.unreadable) return false;
  return sameValue(a.def, a.value, b.value);
}

/** One slot that differs between two sides of a diff. */
export interface DiffLine {
  key: string;
  scope: Scope;
  /** `changed`: both sides hold a value; `old`/`new`: only that side does. */
  kind: 'changed' | 'old' | 'new';
  old?: SlotValue;
  new?: SlotValue;
}

/** Every slot that differs between `older` and `newer`, in key then scope order; `same` counts the rest. */
export function diffSlots(older: SlotSet, newer: SlotSet): { lines: DiffLine[]; same: number } {
  const lines: DiffLine[] = [];
  let unchanged = 0;
  for (const [slot, a] of older.slots) {
    const b = newer.slots.get(slot);
    if (!b) lines.push({ key: a.key, scope: a.scope, kind: 'old', old: a });
    else if (same(a, b)) unchanged++;
    else lines.push({ key: a.key, scope: a.scope, kind: 'changed', old: a, new: b });
  }
  for (const [slot, b] of newer.slots)
    if (!older.slots.has(slot)) lines.push({ key: b.key, scope: b.scope, kind: 'new', new: b });
  lines.sort(bySlot);
  return { lines, same: unchanged };
}

/**
 * One write a restore will make: `value` (in clear) at `scope`, only if the slot is still at
 * `expectedVersion` (the version the preview saw; 0 for an override that holds nothing).
 */
export interface PlannedChange {
  key: string;
  scope: Scope;
  value: unknown;
  expectedVersion: number;
}

/** A planned change with what the preview shows of it. */
export interface PlannedRow extends PlannedChange {
  from: string;
  to: string;
}

export interface RestorePlan {
  snapshot: string;
  /** A template restore: the scope the snapshot's global values are written to; null for a full restore. */
  target: Scope | null;
  changes: PlannedRow[];
  /** Slots already at the snapshot's value. */
  unchanged: number;
  /** Values that cannot be written today, and why (a scope the key no longer allows, today's rules). */
  skipped: { key: string; scope: Scope; why: string }[];
  /** A full restore: overrides that exist now but not in the snapshot, left as they are. */
  kept: { key: string; scope: Scope }[];
}

/**
 * What restoring a snapshot would write. Full restore (`target` null): every recorded slot, at
 * its own scope. Template (`target` a scope): the snapshot's global values, written at `target`,
 * for the keys that allow that scope. Nothing is written here.
 */
export function planRestore(
  config: ConfigService,
  name: string,
  snapshot: SlotSet,
  now: SlotSet & { versions: ReadonlyMap<string, number> },
  target: Scope | null,
): RestorePlan {
  const plan: RestorePlan = { snapshot: name, target, changes: [], unchanged: 0, skipped: [], kept: [] };
  for (const v of snapshot.slots.values()) {
    if (target && v.scope !== GLOBAL) continue;
    const scope = target ?? v.scope;
    const skip = refusal(config, v, scope);
    if (skip) {
      plan.skipped.push({ key: v.key, scope, why: skip });
      continue;
    }
    const cur = now.slots.get(slotId(v.key, scope));
    if (cur && !cur.unreadable && sameValue(v.def, v.value, cur.value)) {
      plan.unchanged++;
      continue;
    }
    plan.changes.push({
      key: v.key,
      scope,
      value: v.value,
      expectedVersion: now.versions.get(slotId(v.key, scope)) ?? 0,
      from: cur ? shown(cur) : '(no override)',
      to: shown(v),
    });
  }
  if (!target)
    for (const cur of now.slots.values())
      if (cur.scope !== GLOBAL && !snapshot.slots.has(slotId(cur.key, cur.scope)))
        plan.kept.push({ key: cur.key, scope: cur.scope });
  return plan;
}

/** Why a recorded value cannot be written at `scope` today, or undefined when it can. */
function refusal(config: ConfigService, v: SlotValue, scope: Scope): string | undefined {
  if (v.unreadable) return v.unreadable;
  try {
    config.scopeOf(v.def, scope);
    storedValue(v.def, scope, v.value);
    return undefined;
  } catch (err) {
    if (isUserError(err)) return err.message;
    throw err;
  }
}
