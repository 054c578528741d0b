import type { Actor, ConfigVersionDoc, VersionAction } from '../storage/config-models.js';
import { splitSlot, type Scope } from '../config/scopes.js';
import type { SlotState } from '../config/resolution.js';

/** One committed version, at its position in the change log. */
export interface FeedChange {
  seq: number;
  key: string;
  scope: Scope;
  version: number;
  action: VersionAction;
  actor: Actor;
  at: Date;
  /** The value this version holds at its scope (undefined when it unsets an override); may be Undecryptable. */
  value: unknown;
}

/**
 * Something else kept in the configuration's slots (feature flags): the feed applies its entries
 * through it, in log order, like the service's own keys.
 */
export interface FeedFollower {
  /** Whether this slot is its. */
  owns(slot: string): boolean;
  /** The version of the slot this process holds. */
  heldVersion(slot: string): number;
  /** Applies every version of the slot newer than the one held. */
  catchUp(slot: string): Promise<number>;
  /**
   * Applies a version given in full when it is the next one held (false: one before it is
   * missing, and catchUp reads them). Without it, every version is caught up from the database.
   */
  applyNext?(doc: ConfigVersionDoc): boolean;
  /** Reads everything again (the feed fell behind the retained log, or starts late). */
  load(): Promise<void>;
  /** Tells the feed of a change made in this process, so it does not wait for its timer. */
  subscribe(listener: () => void): () => void;
}

export interface FeedOptions {
  /** Slots that are not registry keys, and who applies them. */
  followers?: readonly FeedFollower[];
  /** How often the log's tail is read when nothing else said it moved. Default 1 s. */
  intervalMs?: number;
  /** Changes kept in memory for streams that fall behind (older ones are read from the log). */
  recent?: number;
}

export function stateOf(change: FeedChange): SlotState {
  return {
    version: change.version,
    value: change.value,
    ...(change.action === 'unset' ? { unset: true } : {}),
  };
}

export function changeOf(
  seq: number,
  slot: string,
  doc: { version: number; action: VersionAction; actor: Actor; value?: unknown },
  at: Date,
): FeedChange {
  const { key, scope } = splitSlot(slot);
  return {
    seq,
    key,
    scope,
    version: doc.version,
    action: doc.action,
    actor: doc.actor,
    at,
    value: doc.action === 'unset' ? undefined : doc.value,
  };
}

/** The index of the first change after `position` in changes kept in seq order (length when none). */
export function firstAfter(changes: readonly FeedChange[], position: number): number {
  let lo = 0;
  let hi = changes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((changes[mid]?.seq ?? Infinity) > position) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
