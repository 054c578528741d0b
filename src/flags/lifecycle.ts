import type { FlagDefinition } from '@config-bot/client/flags';
import type { StoredFlag } from './types.js';

const DAY_MS = 86_400_000;

/** Whether a flag is on for everyone it can reach (no targeting left to decide). */
function fullyOn(f: FlagDefinition): boolean {
  return (
    f.enabled &&
    !f.archived &&
    f.rollout === 100 &&
    f.conditions.length === 0 &&
    f.prerequisites.length === 0 &&
    f.end === undefined
  );
}

/** Whether a flag is off for everyone. */
function fullyOff(f: FlagDefinition): boolean {
  return !f.enabled || f.rollout === 0 || f.environments.length === 0;
}

export interface Staleness {
  stale: boolean;
  /** Why it is stale, for people: "fully on for 45 days: remove it from the code". */
  why?: string;
}

/**
 * A release flag that has been fully on, or fully off, and unchanged for `staleDays` has done its
 * job: the code should keep one path and the flag should go. Other types are long-lived by design.
 */
export function staleness(stored: StoredFlag, now: Date, staleDays: number): Staleness {
  const f = stored.flag;
  if (f.type !== 'release' || f.archived) return { stale: false };
  const days = Math.floor((now.getTime() - stored.updatedAt.getTime()) / DAY_MS);
  if (days < staleDays) return { stale: false };
  if (fullyOn(f))
    return { stale: true, why: `fully on, unchanged for ${days} days: remove it from the code` };
  if (fullyOff(f))
    return { stale: true, why: `fully off, unchanged for ${days} days: remove it and its code path` };
  return { stale: false };
}
