import { logger } from '../base/logger.js';
import { isPlainObject, mergeLayers } from './merge.js';
import { ConfigCache, type CacheEntry, type CacheStats } from './cache.js';
import { Undecryptable } from '../storage/codec.js';
import type { ChangeBus } from '../changes/bus.js';
import type { LastKnownCopy, LastKnownGood } from './last-known-good.js';
import type { ConfigVersionDoc, SystemConfigDoc } from '../storage/config-models.js';
import type { RegisteredKey, Registry } from './registry.js';
import { GLOBAL, keyOfSlot, kindOf, splitSlot, type Scope } from './scopes.js';
import type { ConfigStore } from '../storage/config-store.js';
import { revalidate } from './validate.js';

/** The overrides of one key held in memory: by environment name, and by server id. */
export interface Layers {
  env: Map<string, CacheEntry>;
  guild: Map<string, CacheEntry>;
  /** A `merge: 'deep'` key: the value in force is the merge of the layers (see merged()). */
  merge: boolean;
  /** Merged values by `env|guild`, dropped whenever a layer of the key changes. */
  mergedCache: Map<string, unknown>;
}

/**
 * This process's current values: what get() answers from, kept in step with the database one
 * version at a time, announced to listeners as each version arrives, and copied to the
 * last-known-good file. Every way a version reaches the process (a write here, a repair, another
 * process's change caught up, a start from the copy) goes through apply() or load().
 */
export class LiveValues {
  private readonly cache = new ConfigCache();
  private readonly restartPending = new Set<string>();
  /** Keys whose value came from the last-known-good copy and not yet from the database. */
  private readonly fromCopy = new Set<string>();
  private loaded = false;
  private readonly layers = new Map<string, Layers>();

  constructor(
    private readonly registry: Registry,
    private readonly store: ConfigStore,
    private readonly copy: LastKnownGood | undefined,
    /** Where each version is announced as it becomes current (the process's one change bus). */
    private readonly bus: ChangeBus,
  ) {}

  /** The entry get() serves, counted as a cache hit or miss. */
  read(key: string): CacheEntry | undefined {
    return this.cache.read(key);
  }

  /** The entry, without counting (views, writers). */
  peek(key: string): CacheEntry | undefined {
    return this.cache.peek(key);
  }

  /** The global value held for a key, or its default when it has none yet. */
  value(key: string): unknown {
    const cached = this.cache.peek(key);
    return cached ? cached.value : this.registry.get(key)?.default;
  }

  /** What a slot holds: its entry, or undefined when it has no value (never set, or unset). */
  held(slot: string): CacheEntry | undefined {
    const e = this.cache.peek(slot);
    return e && !e.unset ? e : undefined;
  }

  /**
   * The overrides of a key, by environment name and by server id, for get(): one Map lookup per
   * layer and no string built on the hot path. Undefined when the key has never had one here.
   */
  layersOf(key: string): Layers | undefined {
    return this.layers.get(key);
  }

  /** Every override slot of `key` this process holds a value for (`KEY|scope`). */
  overridesOf(key: string): { scope: Scope; entry: CacheEntry }[] {
    // From the per-key index, not a scan of every slot: /config list asks for every key.
    const l = this.layers.get(key);
    if (!l) return [];
    return [
      ...[...l.env].map(([name, entry]) => ({ scope: `env:${name}` as Scope, entry })),
      ...[...l.guild].map(([id, entry]) => ({ scope: `guild:${id}` as Scope, entry })),
    ];
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
    const unset = version.action === 'unset';
    if (version.value instanceof Undecryptable)
      logger.warn(
        `${version.key} v${version.version} is served masked by this process: ${version.value.reason}. Every other key keeps following.`,
      );
    const entry: CacheEntry = {
      value: unset ? null : version.value,
      version: version.version,
      updatedBy: version.actor,
      updatedAt: version.createdAt,
      ...(unset ? { unset } : {}),
    };
    if (!this.put(version.key, entry)) return;
    if (def.requiresRestart) this.restartPending.add(def.key);
    this.saveCopy();
    this.bus.emit('value', {
      key: def.key,
      scope: splitSlot(version.key).scope,
      oldValue,
      newValue: version.value,
      version: version.version,
      action: version.action,
      actor: version.actor,
    });
  }

  /** Applies interrupted writes a commit or refresh completed, before anything newer. */
  applyAll(repaired: readonly { def: RegisteredKey; version: ConfigVersionDoc; oldValue: unknown }[]): void {
    for (const r of repaired) this.apply(r.def, r.version, r.oldValue);
  }

  /** Applies, oldest first, every version of `key` newer than this process holds. */
  async catchUp(slot: string): Promise<number> {
    const def = this.registry.get(keyOfSlot(slot));
    const cached = this.cache.peek(slot);
    // An override this process never saw starts from nothing: every version is news.
    if (!def || (!cached && splitSlot(slot).scope === GLOBAL)) return 0;
    const newer = await this.store.versionsAfter(slot, cached?.version ?? 0);
    let previous = cached && !cached.unset ? cached.value : undefined;
    for (const v of newer) {
      this.apply(def, v, previous);
      previous = v.action === 'unset' ? undefined : v.value;
    }
    return newer.length;
  }

  /**
   * Applies `version` of its slot given in full (another process's commit, carried by the change
   * log's tail) when it is the next one this process needs. False when a version before it is
   * missing here: the caller catches up from the database instead.
   */
  applyNext(version: ConfigVersionDoc): boolean {
    const def = this.registry.get(keyOfSlot(version.key));
    const cached = this.cache.peek(version.key);
    // As in catchUp: a global value not loaded yet is loaded whole, never announced piecemeal.
    if (!def || (!cached && splitSlot(version.key).scope === GLOBAL)) return true;
    const held = cached?.version ?? 0;
    if (held >= version.version) return true;
    if (held !== version.version - 1) return false;
    this.apply(def, version, cached && !cached.unset ? cached.value : undefined);
    return true;
  }

  /** Holds every value of a last-known-good copy (a start without the database). */
  loadCopy(copy: LastKnownCopy): void {
    for (const [key, entry] of copy.entries) {
      const def = this.registry.get(keyOfSlot(key));
      if (!def) continue;
      this.put(key, this.checked(def, entry, key));
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
      const def = this.registry.get(keyOfSlot(doc.key));
      if (!def) continue;
      const cached = this.cache.peek(doc.key);
      // An override created elsewhere after this process loaded: each of its versions is news.
      if (!cached && this.loaded && splitSlot(doc.key).scope !== GLOBAL) await this.catchUp(doc.key);
      else if (!cached) this.put(doc.key, this.toEntry(def, doc));
      else if (doc.version > cached.version) await this.catchUp(doc.key);
      else if (overrule && this.fromCopy.has(doc.key) && doc.version < cached.version) {
        logger.warn(
          `${doc.key}: the database holds v${doc.version} but the last-known-good copy had v${cached.version}; using the database`,
        );
        const entry = this.toEntry(def, doc);
        this.cache.replace(doc.key, entry);
        this.index(doc.key, entry);
        const version = await this.store.version(doc.key, doc.version);
        this.fromCopy.delete(doc.key);
        this.bus.emit('value', {
          key: def.key,
          scope: splitSlot(doc.key).scope,
          oldValue: cached.value,
          newValue: entry.value,
          version: entry.version,
          action: version?.action ?? 'set',
          actor: doc.updatedBy,
        });
      }
    }
    for (const doc of docs) this.fromCopy.delete(doc.key);
    // An override only the copy knows (the database was restored from an older backup, say): the
    // database is the truth, so it is dropped, announced, and the key inherits again.
    if (overrule) for (const slot of [...this.fromCopy]) this.dropCopiedOverride(slot);
    this.loaded = true;
    this.cache.markRefreshed();
  }

  private put(slot: string, entry: CacheEntry): boolean {
    if (!this.cache.put(slot, entry)) return false;
    this.index(slot, entry);
    return true;
  }

  /** The value of a `merge: 'deep'` key in force for `environment` and `guildId` (see mergedOf). */
  merged(key: string, layers: Layers, environment: string, guildId?: string | null): unknown {
    return mergedOf(layers, () => this.value(key), environment, guildId);
  }

  /** Keeps layersOf() in step with the cache for override slots. */
  private index(slot: string, entry: CacheEntry): void {
    const { key, scope } = splitSlot(slot);
    const def = this.registry.get(key);
    // The global value is part of every merged value of the key.
    if (scope === GLOBAL) return void this.layers.get(key)?.mergedCache.clear();
    // An override of a scope the key no longer allows (its declaration changed) is not served.
    if (!def?.scopes.includes(kindOf(scope))) return;
    // Keyed by the registry's own string and flattened names: a lookup by an equal string then
    // compares cheaply (a sliced string is compared character by character on every get()).
    let l = this.layers.get(def.key);
    if (!l)
      this.layers.set(
        def.key,
        (l = { env: new Map(), guild: new Map(), merge: def.merge === 'deep', mergedCache: new Map() }),
      );
    l.mergedCache.clear();
    const name = flat(scope.slice(scope.indexOf(':') + 1));
    const layer = scope.startsWith('env:') ? l.env : l.guild;
    if (entry.unset) layer.delete(name);
    else layer.set(name, entry);
  }

  private dropCopiedOverride(slot: string): void {
    const { key, scope } = splitSlot(slot);
    const def = this.registry.get(key);
    const held = this.cache.peek(slot);
    this.fromCopy.delete(slot);
    if (scope === GLOBAL || !def || !held || held.unset) return;
    logger.warn(
      `${slot}: the last-known-good copy had v${held.version} but the database has no such override; dropping it`,
    );
    const entry: CacheEntry = { ...held, value: null, version: 0, unset: true };
    this.cache.replace(slot, entry);
    this.index(slot, entry);
    this.bus.emit('value', {
      key,
      scope,
      oldValue: held.value,
      newValue: null,
      version: 0,
      action: 'unset',
      actor: held.updatedBy,
    });
  }

  /** Writes the last-known-good copy soon (bursts of changes are written once). */
  saveCopy(): void {
    this.copy?.schedule(() => this.cache.all());
  }

  /** Finishes writing the copy. */
  async close(): Promise<void> {
    await this.copy?.flush();
  }

  private toEntry(def: RegisteredKey, doc: SystemConfigDoc): CacheEntry {
    return this.checked(
      def,
      {
        value: doc.value,
        version: doc.version,
        updatedBy: doc.updatedBy,
        updatedAt: doc.updatedAt,
        ...(doc.unset ? { unset: true } : {}),
      },
      doc.key,
    );
  }

  /** Slots whose current value this process cannot decrypt, with why. */
  undecryptable(): { slot: string; reason: string }[] {
    const out: { slot: string; reason: string }[] = [];
    for (const [slot, e] of this.cache.all())
      if (!e.unset && e.value instanceof Undecryptable) out.push({ slot, reason: e.value.reason });
    return out.sort((a, b) => a.slot.localeCompare(b.slot));
  }

  /** An entry whose value passes today's rules; otherwise the default, logged. */
  private checked(def: RegisteredKey, entry: CacheEntry, slot = def.key): CacheEntry {
    // Not checkable, and not to be replaced by the default: it is served masked (see Undecryptable).
    if (entry.unset || entry.value instanceof Undecryptable) return entry;
    try {
      // A partial override of a merged key is checked as part of the whole, when it is written.
      if (def.merge === 'deep' && splitSlot(slot).scope !== GLOBAL && isPlainObject(entry.value))
        return entry;
      return { ...entry, value: revalidate(def, entry.value).value };
    } catch (err) {
      // An override that fails today's rules is ignored (the key inherits); a global value falls back to the default.
      if (splitSlot(slot).scope !== GLOBAL) {
        logger.error(`Stored override ${slot} (v${entry.version}) fails today's rules; ignoring it`, {
          error: err instanceof Error ? err.message : String(err),
        });
        return { ...entry, unset: true };
      }
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

/** A string V8 holds as one flat, internalised sequence (property names are). */
function flat(s: string): string {
  return Object.keys({ [s]: 0 })[0] ?? s;
}

/**
 * The value of a `merge: 'deep'` key in force for `environment` and `guildId`: its global value
 * (or default) merged with the environment's and then the server's partial overrides. Computed
 * once per combination until a layer changes.
 */
function mergedOf(
  layers: Layers,
  global: () => unknown,
  environment: string,
  guildId?: string | null,
): unknown {
  const id = `${environment}|${guildId ?? ''}`;
  if (layers.mergedCache.has(id)) return layers.mergedCache.get(id);
  const value = mergeLayers([
    global(),
    layers.env.get(environment)?.value,
    guildId ? layers.guild.get(guildId)?.value : undefined,
  ]);
  layers.mergedCache.set(id, value);
  return value;
}
