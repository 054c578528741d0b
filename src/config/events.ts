import { errorDetail, logger } from '../logger.js';
import type { Actor, VersionAction } from './models.js';
import type { Scope } from './scopes.js';

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

export type ConfigListener = (change: ConfigChange) => void | Promise<void>;

/**
 * Announces committed changes. Unlike a bare EventEmitter, a listener that throws (or rejects)
 * is logged and contained: the write has already happened, and the other listeners still run.
 */
export class ConfigEvents {
  private readonly listeners = new Set<{ keys: ReadonlySet<string> | undefined; fn: ConfigListener }>();

  /** Calls `listener` for changes of `keys` (all keys when omitted); returns the unsubscribe function. */
  subscribe(keys: readonly string[] | undefined, listener: ConfigListener): () => void {
    const entry = { keys: keys ? new Set(keys.map((k) => k.toUpperCase())) : undefined, fn: listener };
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  emit(change: ConfigChange): void {
    for (const { keys, fn } of [...this.listeners]) {
      if (keys && !keys.has(change.key)) continue;
      try {
        const result = fn(change);
        if (result instanceof Promise) result.catch((err: unknown) => this.report(change, err));
      } catch (err) {
        this.report(change, err);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }

  get size(): number {
    return this.listeners.size;
  }

  private report(change: ConfigChange, err: unknown): void {
    logger.error(`config:changed listener failed for ${change.key} v${change.version}`, errorDetail(err));
  }
}
