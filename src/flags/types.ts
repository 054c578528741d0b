import type { Actor, VersionAction } from '../storage/config-models.js';
import type { ConfigService } from '../config/service.js';
import type { FlagDefinition } from '@config-bot/client/flags';

/**
 * What the flag store uses of the configuration core (ConfigService is one): the versioned
 * slots it writes through, the approval settings and change requests, the audit, health and
 * refusal counts its refused writes go to, and the slot-owner registry approved requests reach
 * it by. Each part of the store takes the narrower slice it needs.
 */
export type FlagConfig = Pick<
  ConfigService,
  | 'environment'
  | 'conn'
  | 'slots'
  | 'registerSlotOwner'
  | 'approvals'
  | 'approvalTtlMs'
  | 'requests'
  | 'audit'
  | 'health'
  | 'refusals'
>;

/** Flags are slots `flag:<name>` in the configuration's collections (see FlagStore). */
export const FLAG_SLOT_PREFIX = 'flag:';

export const slotOfFlag = (name: string): string => `${FLAG_SLOT_PREFIX}${name}`;

/** The flag name of a slot, or undefined for a slot that is not a flag. */
export function flagOfSlot(slot: string): string | undefined {
  return slot.startsWith(FLAG_SLOT_PREFIX) ? slot.slice(FLAG_SLOT_PREFIX.length) : undefined;
}

/** A flag as this process holds it: its definition and the version it is at. */
export interface StoredFlag {
  flag: FlagDefinition;
  version: number;
  updatedAt: Date;
  updatedBy: Actor;
}

/** One version of a flag, for history: what it was, who made it, and what it changed. */
export interface FlagVersion {
  name: string;
  version: number;
  flag: FlagDefinition;
  action: VersionAction;
  actor: Actor;
  reason?: string;
  restoredFrom?: number;
  createdAt: Date;
  /** What changed from the version before, one line per field (`rollout: 10% → 25%`). */
  changes: string[];
}

/** A committed flag write. Refused writes throw a UserError instead (after auditing the attempt). */
export interface FlagWrite {
  name: string;
  action: VersionAction;
  version: number;
  oldVersion: number;
  flag: FlagDefinition;
  /** Undefined for a creation. */
  previous?: FlagDefinition;
  changes: string[];
  restoredFrom?: number;
  /** Its position in the change log (for "applied by"). */
  seq?: number;
  at: Date;
}

/** A flag version this process applied, from here or from another process. */
export interface FlagChange {
  name: string;
  version: number;
  action: VersionAction;
  actor: Actor;
  reason?: string;
  flag: FlagDefinition;
  previous?: FlagDefinition;
}

export interface FlagWriteOptions {
  /**
   * The version a preview was computed from: if the flag moved since, nothing is written and the
   * attempt is refused as changed since the preview.
   */
  expectedVersion?: number;
  /** Set only when applying an approved change request: its versions record it. */
  approval?: { request: string; approvers: Actor[] };
}

/** What a rollback would do, for its confirmation. */
export interface FlagRollbackPreview {
  name: string;
  currentVersion: number;
  toVersion: number;
  from: FlagDefinition;
  to: FlagDefinition;
  changes: string[];
}
