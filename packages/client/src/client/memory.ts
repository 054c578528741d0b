import type { Actor, WireResolved, WireSnapshot } from '../wire.js';
import type { ChangeData } from './read-wire.js';
import type { Entry } from './types.js';

/** A change to hand to listeners, before typing by key. */
export interface AppliedChange {
  key: string;
  value: unknown;
  previous: unknown;
  version: number;
  scope: string;
  layer: string;
  action: string;
  actor: Actor | null;
  seq: number;
}

/** What the API resolved a request to: its snapshot's `environment` and `guild`. */
export interface Resolved {
  environment: string;
  guild: string | null;
}

/** Key names as the API spells them: it upper-cases what it is given, so the client does too. */
export function keyName(key: string): string {
  return key.trim().toUpperCase();
}

/**
 * The values in memory and the stream position they include. Applying returns what changed, so
 * the caller can tell listeners; nothing here does I/O or calls out.
 */
export class Memory {
  private entries = new Map<string, Entry>();
  /** The last position applied (snapshot, file or event); undefined before anything is loaded. */
  seq: number | undefined;
  /** What the values were resolved for; undefined before anything is loaded. */
  resolved: Resolved | undefined;

  constructor(private readonly keys: ReadonlySet<string> | undefined) {}

  get loaded(): boolean {
    return this.seq !== undefined;
  }

  /** The value, or undefined when unknown or masked (the token may not see it). */
  value(key: string): { found: true; value: unknown } | { found: false } {
    // The exact name first: get() sits in hot loops, and the declared names are already upper case.
    const e = this.entries.get(key) ?? this.entries.get(keyName(key));
    return e && !e.masked ? { found: true, value: e.value } : { found: false };
  }

  all(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, e] of this.entries) if (!e.masked) out[key] = e.value;
    return out;
  }

  /** Everything the last-known-good file keeps; undefined until something is loaded. */
  state(): { seq: number; resolved: Resolved; entries: Iterable<[string, Entry]> } | undefined {
    if (this.seq === undefined || !this.resolved) return undefined;
    return { seq: this.seq, resolved: this.resolved, entries: this.entries.entries() };
  }

  /** Replaces everything with a snapshot; the differences are changes when values were loaded. */
  applySnapshot(snapshot: WireSnapshot): AppliedChange[] {
    const next = new Map<string, Entry>();
    for (const [key, wire] of Object.entries(snapshot.values))
      if (!this.keys || this.keys.has(key)) next.set(key, toEntry(wire));
    const changes = this.loaded ? diff(this.entries, next, snapshot.seq) : [];
    this.entries = next;
    this.seq = snapshot.seq;
    this.resolved = { environment: snapshot.environment, guild: snapshot.guild };
    return changes;
  }

  /** Loads a last-known-good file's values, as they were (and frozen, as the API's are). */
  load(entries: Map<string, Entry>, seq: number, resolved: Resolved): void {
    this.entries = new Map();
    for (const [key, entry] of entries)
      if (!this.keys || this.keys.has(key))
        this.entries.set(key, { ...entry, value: deepFreeze(entry.value) });
    this.seq = seq;
    this.resolved = resolved;
  }

  /**
   * Applies one event: the change, `duplicate` when it was already applied (a replay after
   * reconnecting), or `position` for a key this client does not follow (only the position moves).
   */
  applyChange(change: ChangeData): AppliedChange | 'duplicate' | 'position' {
    if (this.seq !== undefined && change.seq <= this.seq) return 'duplicate';
    this.seq = change.seq;
    if (this.keys && !this.keys.has(change.key)) return 'position';
    const previous = this.entries.get(change.key);
    const entry = toEntry({ ...change, version: change.layerVersion ?? change.version });
    this.entries.set(change.key, entry);
    return {
      key: change.key,
      value: entry.masked ? undefined : entry.value,
      previous: previous && !previous.masked ? previous.value : undefined,
      version: change.version,
      scope: change.scope,
      layer: change.layer,
      action: change.action,
      actor: change.actor ?? null,
      seq: change.seq,
    };
  }

  /** Moves the position forward; false when it was already there. */
  applyCheckpoint(seq: number): boolean {
    if (this.seq !== undefined && seq <= this.seq) return false;
    this.seq = seq;
    return true;
  }
}

function toEntry(wire: WireResolved): Entry {
  const masked = wire.masked === true;
  return {
    // Frozen, so an application that mutates what get() returned cannot change what others read.
    value: masked ? undefined : deepFreeze(wire.value),
    version: wire.version,
    layer: wire.layer,
    sensitive: wire.sensitive === true,
    masked,
  };
}

/**
 * The differences found by comparing a fresh snapshot with memory. Where the change was made is
 * not known (only which layer supplies the value now), so `scope` is `resync`, like `action`,
 * rather than a guess; `version` is the supplying layer's version (0 for a key that went away).
 */
function diff(before: Map<string, Entry>, after: Map<string, Entry>, seq: number): AppliedChange[] {
  const changes: AppliedChange[] = [];
  const visible = (e: Entry | undefined): unknown => (e && !e.masked ? e.value : undefined);
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const old = before.get(key);
    const now = after.get(key);
    if (old && now && old.masked === now.masked && JSON.stringify(old.value) === JSON.stringify(now.value))
      continue;
    changes.push({
      key,
      value: visible(now),
      previous: visible(old),
      version: now?.version ?? 0,
      scope: 'resync',
      layer: now?.layer ?? 'default',
      action: 'resync',
      actor: null,
      seq,
    });
  }
  return changes;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
