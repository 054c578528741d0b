import type { CacheStats } from './cache.js';
import type { Actor, VersionAction } from '../storage/config-models.js';
import type { Category } from './registry.js';
import type { Scope } from './scopes.js';

/** Where a request came from, recorded in the audit log. */
export interface RequestContext {
  guildId?: string;
  channelId?: string;
}

/** A committed write. Refused writes throw a UserError instead (after auditing the attempt). */
export interface WriteSuccess {
  key: string;
  /** Where the value was written (`global`, `env:<name>`, `guild:<id>`). */
  scope: Scope;
  action: VersionAction;
  version: number;
  value: unknown;
  oldValue: unknown;
  oldVersion: number;
  warnings: string[];
  restoredFrom?: number;
  /** A temporary value (`for:`): when it expires, and what the key then returns to. */
  until?: { at: Date; then: string };
  /** Its position in the change log: processes that applied this position applied the change. */
  seq?: number;
  /** When the version was committed. */
  at?: Date;
}

/** A change stored to happen later (`at:`). */
export interface ScheduledChange {
  id: string;
  key: string;
  scope: Scope;
  runAt: Date;
  /** The value as text (masked when sensitive). */
  display: string;
  /** With `for:` too: how long it holds once applied. */
  thenForMs?: number;
  warnings: string[];
}

/** Options of a write: where, and (a rollback or reset confirmed after a preview) from what. */
export interface WriteOptions {
  /** The scope as typed (`global`, `env:staging`, `guild:<id>`); default global. */
  scope?: string | null;
  /** A set only: the value holds this long, then the one it replaced comes back (`for:`). */
  forMs?: number;
  /**
   * The version the preview was computed from: if the key moved since, nothing is written and the
   * attempt is refused (and audited) as changed since the preview.
   */
  expectedVersion?: number;
  /** Set only when applying an approved change request: the gate lets it through and the version records it. */
  approval?: { request: string; approvers: Actor[] };
  /**
   * Carrying out a temporary or scheduled change planned earlier (an expiry, a scheduled value):
   * it went through approvals when it was planned, so the gate lets it through.
   */
  timed?: boolean;
}

export interface ConfigEntry {
  key: string;
  category: Category;
  description: string;
  type: string;
  /** The value, or MASK for a sensitive one. */
  value: unknown;
  /** The value as text, masked for sensitive keys. */
  display: string;
  defaultDisplay: string;
  isDefault: boolean;
  version: number;
  updatedBy: Actor | undefined;
  updatedAt: Date | undefined;
  sensitive: boolean;
  requiresRestart: boolean;
  /** Changes waiting to happen to this key (temporary values ending, scheduled changes), as text. */
  pending?: string[];
  /** The scope this entry shows (global unless asked for one layer). */
  scope: Scope;
  /** The scopes the key allows. */
  scopes: readonly string[];
  /** How many overrides (env or guild layers) hold a value. */
  overrides: number;
  /**
   * Where the value comes from, most specific first, for the server and environment asked about:
   * each layer with what it holds (or undefined), and which one supplied the value.
   */
  layers?: Layer[];
  /**
   * Set when this process's environment overrides the key (CONFIG_OVERRIDE_<KEY>): `value` and
   * `display` are then the override's, and this names the variable and what is stored.
   */
  override?: { variable: string; storedDisplay: string };
}

/** One layer of a key's resolution (see ConfigEntry.layers). */
export interface Layer {
  /** `guild:<id>`, `env:<name>`, `global`, or `default`. */
  scope: Scope | 'default';
  /** The value as text, or undefined when the layer holds none. */
  display: string | undefined;
  version: number;
  /** Whether this layer supplied the resolved value. */
  supplies: boolean;
}

/** One key in a snapshot of the configuration at some time (exports). */
export interface SnapshotEntry {
  key: string;
  /** The value, or MASK for a sensitive one that is set. */
  value: unknown;
  display: string;
  version: number;
  updatedAt: Date | undefined;
  updatedBy: Actor | undefined;
  sensitive: boolean;
}

export interface Preview {
  key: string;
  scope: Scope;
  /** What confirming does: rollback, reset, or unset (a reset at an override scope). */
  action: VersionAction;
  currentVersion: number;
  current: string;
  next: string;
  warnings: string[];
  restoredFrom?: number;
  /** The typed value it would write (absent for an unset); stays in the process, never shown as is. */
  value?: unknown;
}

export interface ServiceStats {
  cache: CacheStats;
  database: 'connected' | 'unavailable';
  outageSince: Date | undefined;
  /** Where this process's values came from at start. */
  startedFrom: 'database' | 'last-known-good copy';
  /** When the last-known-good copy it started from was written (when it started from one). */
  copyWrittenAt: Date | undefined;
  /** Audit rows waiting for the database. */
  auditQueued: number;
  /** Keys this process's environment overrides, with their variables. */
  envOverrides: { key: string; variable: string }[];
  /** Slots whose current value this process cannot decrypt (served masked), with why. */
  undecryptable: { slot: string; reason: string }[];
}
