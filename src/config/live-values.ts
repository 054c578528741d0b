import { logger } from '../logger.js';
import { ConfigCache, type CacheEntry, type CacheStats } from './cache.js';
import { ConfigEvents } from './events.js';
import type { LastKnownCopy, LastKnownGood } from './last-known-good.js';
import type { ConfigVersionDoc, SystemConfigDoc } from './models.js';
import type { RegisteredKey, Registry } from './registry.js';
import type { ConfigStore } from './store.js';
import { revalidate } from './validate.js';

/**
 * This process's current values: what get() answers from, kept in step with the database one
 * version at a time, announced to listeners as each version arrives, and copied to the
 * last-known-good file. Every way a version reaches the process (a write here, a repair, another
 * process's change caught up, a start from the copy) goes through apply() or load().
 */
export class LiveValues {
  readonly events = new ConfigEvents();
  private readonly cache = new ConfigCache();
  private readonly restartPending = new Set<string>();
  /** Keys whose value came from the last-known-good copy and not yet from the database. */
  private readonly fromCopy = new Set<string>();

  constructor(
    private readonly registry: Registry,
    private readonly store: ConfigStore,
    private readonly copy: LastKnownGood | undefined,
  ) {}

  /** The entry get() serves, counted as a cache hit or miss. */
  read(key: string): CacheEntry | undefined {
    return this.cache.read(key);
  }

  /** The entry, without counting (views, writers). */
  peek(key: string): CacheEntry | undefined {
    return this.cache.peek(key);
  }

  /** The value held for a key, or its default when it has none yet. */
  value(key: string): unknown {
    const cached = this.cache.peek(key);
    return cached ? cached.value : this.registry.get(key)?.default;
  }

  stats(): CacheStats {
    return this.cache.stats();
  }

  /** Keys marked requiresRestart that changed since this process started. */
  pendingRestart(): string[] {
    return [...this.restartPending].sort();
  }

  /** A version became current (written here, repaired, or caught up): hold it and announce it. */
  apply(def: RegisteredKey, version: ConfigVersionDoc, oldValue: unknown): void {
    const entry: CacheEntry = {
      value: version.value,
      version: version.version,
      updatedBy: version.actor,
      updatedAt: version.createdAt,
    };
    if (!this.cache.put(def.key, entry)) return;
    if (def.requiresRestart) this.restartPending.add(def.key);
    this.saveCopy();
    this.events.emit({
      key: def.key,
      oldValue,
      newValue: version.value,
      version: version.version,
      action: version.action,
      actor: version.actor,
    });
  }

  /** Applies, oldest first, every version of `key` newer than this process holds. */
  async catchUp(key: string): Promise<number> {
    const def = this.registry.get(key);
    const cached = this.cache.peek(key);
    if (!def || !cached) return 0;
    const newer = await this.store.versionsAfter(key, cached.version);
    let previous = cached.value;
    for (const v of newer) {
      this.apply(def, v, previous);
      previous = v.value;
    }
    return newer.length;
  }

  /** Holds every value of a last-known-good copy (a start without the database). */
  loadCopy(copy: LastKnownCopy): void {
    for (const [key, entry] of copy.entries) {
      const def = this.registry.get(key);
      if (!def) continue;
      this.cache.put(key, this.checked(def, entry));
      this.fromCopy.add(key);
    }
  }

  /**
   * Holds current documents; a key already held is caught up instead. With `overrule` (attaching
   * after a start from the copy), a key the copy holds at a version the database does not have
   * (a restored backup) takes the database's value, announced.
   */
  async load(docs: readonly SystemConfigDoc[], { overrule = false } = {}): Promise<void> {
    for (const doc of docs) {
      const def = this.registry.get(doc.key);
      if (!def) continue;
      const cached = this.cache.peek(doc.key);
      if (!cached) this.cache.put(doc.key, this.toEntry(def, doc));
      else if (doc.version > cached.version) await this.catchUp(doc.key);
      else if (overrule && this.fromCopy.has(doc.key) && doc.version < cached.version) {
        logger.warn(
          `${doc.key}: the database holds v${doc.version} but the last-known-good copy had v${cached.version}; using the database`,
        );
        const entry = this.toEntry(def, doc);
        this.cache.replace(doc.key, entry);
        const version = await this.store.version(doc.key, doc.version);
        this.fromCopy.delete(doc.key);
        this.events.emit({
          key: doc.key,
          oldValue: cached.value,
          newValue: entry.value,
          version: entry.version,
          action: version?.action ?? 'set',
          actor: doc.updatedBy,
        });
      }
    }
    for (const doc of docs) this.fromCopy.delete(doc.key);
    this.cache.markRefreshed();
  }

  /** Writes the last-known-good copy soon (bursts of changes are written once). */
  saveCopy(): void {
    this.copy?.schedule(() => this.cache.all());
  }

  /** Finishes writing the copy and drops every listener. */
  async close(): Promise<void> {
    this.events.clear();
    await this.copy?.flush();
  }

  private toEntry(def: RegisteredKey, doc: SystemConfigDoc): CacheEntry {
    return this.checked(def, {
      value: doc.value,
      version: doc.version,
      updatedBy: doc.updatedBy,
      updatedAt: doc.updatedAt,
    });
  }

  /** An entry whose value passes today's rules; otherwise the default, logged. */
  private checked(def: RegisteredKey, entry: CacheEntry): CacheEntry {
    try {
      return { ...entry, value: revalidate(def, entry.value).value };
    } catch (err) {
      // Rules tightened since it was stored: serve the default rather than a value code can't trust.
      logger.error(
        `Stored value of ${def.key} (v${entry.version}) fails today's rules; serving the default`,
        {
          error: err instanceof Error ? err.message : String(err),
        },
      );
      return { ...entry, value: def.default };
    }
  }
}
