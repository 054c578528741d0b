import type { Actor } from '../storage/config-models.js';

export interface CacheEntry {
  value: unknown;
  version: number;
  updatedBy: Actor;
  updatedAt: Date;
  /** An override removed by `unset`: the slot holds no value (see scopes.ts). */
  unset?: boolean;
}

export interface CacheStats {
  hits: number;
  misses: number;
  hitRate: number;
  keys: number;
  lastRefresh: Date | undefined;
}

/** Current values in memory, by slot (the key for its global value, `KEY|scope` for an override). Reads never touch the database; counters feed stats(). */
export class ConfigCache {
  private readonly entries = new Map<string, CacheEntry>();
  private hits = 0;
  private misses = 0;
  private lastRefresh: Date | undefined;

  /** The entry, counted as a hit or a miss. Kept tiny: it is the hot path of every get(). */
  read(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) this.misses++;
    else this.hits++;
    return entry;
  }

  /** The entry without touching the counters (for views and writers). */
  peek(key: string): CacheEntry | undefined {
    return this.entries.get(key);
  }

  /** Stores an entry unless the cache already holds a newer version (changes can arrive out of order). */
  put(key: string, entry: CacheEntry): boolean {
    const current = this.entries.get(key);
    if (current && current.version >= entry.version) return false;
    this.entries.set(key, entry);
    return true;
  }

  /** Stores an entry whatever the cache holds (the database overrules a last-known-good copy). */
  replace(key: string, entry: CacheEntry): void {
    this.entries.set(key, entry);
  }

  /** Every entry, for the last-known-good copy. */
  all(): IterableIterator<[string, CacheEntry]> {
    return this.entries.entries();
  }

  markRefreshed(): void {
    this.lastRefresh = new Date();
  }

  stats(): CacheStats {
    const total = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      hitRate: total === 0 ? 1 : this.hits / total,
      keys: this.entries.size,
      lastRefresh: this.lastRefresh,
    };
  }
}
