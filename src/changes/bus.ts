import { errorDetail, logger } from '../base/logger.js';
import type { Actor, VersionAction } from '../storage/config-models.js';
import type { Scope } from '../storage/slots.js';

/** A configuration version that became current in this process (written here, repaired, or caught up). */
export interface ConfigChange<T = unknown> {
  key: string;
  /** Where the change applies; listeners of a key hear every scope of it. */
  scope: Scope;
  oldValue: T | undefined;
  newValue: T;
  version: number;
  action: VersionAction;
  actor: Actor;
}

/** A feature flag version that became current in this process (`flag`: its definition). */
export interface FlagApplied {
  name: string;
  version: number;
  action: VersionAction;
  actor: Actor;
  reason?: string;
  flag: unknown;
  previous?: unknown;
}

/**
 * A version this process committed, with its position in the change log: whoever follows the
 * log (the feed, its event streams) takes it from here instead of reading it back.
 */
export interface Committed {
  seq: number;
  /** The slot: `KEY`, `KEY|scope`, or `flag:<name>`. */
  slot: string;
  version: number;
  action: VersionAction;
  actor: Actor;
  at: Date;
  /** The value the version holds at its slot (undefined when it unsets an override). */
  value: unknown;
}

/** Everything a process hears about changes, by kind. */
export interface BusEvents {
  value: ConfigChange;
  flag: FlagApplied;
  committed: Committed;
  /** Another process committed something (the change marker moved, or a change stream said so). */
  moved: true;
  /** The change feed applied the log up to this position. */
  advanced: number;
}

export type BusListener<K extends keyof BusEvents> = (event: BusEvents[K]) => void | Promise<void>;

/**
 * The one way a process says "something changed": configuration values and flags applied, this
 * process's own commits, other processes' commits noticed, the feed's position. Unlike a bare
 * EventEmitter, a listener that throws (or rejects) is logged and contained: the change has
 * happened, and the other listeners still run. Emitting is synchronous, in subscription order.
 */
export class ChangeBus {
  private readonly listeners: { [K in keyof BusEvents]: Set<BusListener<K>> } = {
    value: new Set(),
    flag: new Set(),
    committed: new Set(),
    moved: new Set(),
    advanced: new Set(),
  };

  /** Calls `listener` for every event of `kind`; returns the unsubscribe function. */
  on<K extends keyof BusEvents>(kind: K, listener: BusListener<K>): () => void {
    const set = this.listeners[kind] as Set<BusListener<K>>;
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Calls `listener` for changes of `keys` (every key when omitted); returns the unsubscribe. */
  onValues(keys: readonly string[] | undefined, listener: BusListener<'value'>): () => void {
    const wanted = keys ? new Set(keys.map((k) => k.toUpperCase())) : undefined;
    return this.on('value', (c) => (wanted && !wanted.has(c.key) ? undefined : listener(c)));
  }

  emit<K extends keyof BusEvents>(kind: K, event: BusEvents[K]): void {
    for (const fn of [...(this.listeners[kind] as Set<BusListener<K>>)]) {
      try {
        const result = fn(event);
        if (result instanceof Promise) result.catch((err: unknown) => this.report(kind, err));
      } catch (err) {
        this.report(kind, err);
      }
    }
  }

  /** How many listeners `kind` has. */
  count(kind: keyof BusEvents): number {
    return this.listeners[kind].size;
  }

  clear(): void {
    for (const set of Object.values(this.listeners)) set.clear();
  }

  private report(kind: keyof BusEvents, err: unknown): void {
    logger.error(`A listener of ${kind} changes failed`, errorDetail(err));
  }
}
