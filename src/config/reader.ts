import { UserError } from '../base/errors.js';
import type { DatabaseHealth } from '../storage/health.js';
import { Undecryptable } from '../storage/codec.js';
import type { Actor } from '../storage/config-models.js';
import type { EnvOverride } from './env-overrides.js';
import type { LiveValues } from './live-values.js';
import { entryOf, present } from './present.js';
import type { Category, ConfigKey, ConfigValues, RegisteredKey, Registry } from './registry.js';
import { parentOf, type Resolution, type SlotState } from './resolution.js';
import { GLOBAL, parseScope, slotId, type Scope } from './scopes.js';
import type { ConfigEntry, Layer } from './types.js';
import { resolveKey } from './validate.js';

/**
 * Where a value is read for: a server (its guild layer first), and an environment other than
 * this process's own (a listener asking what another environment now has).
 */
export interface ReadAt {
  guildId?: string | null;
  environment?: string;
}

/** A key resolved for an environment and server (see ConfigReader.resolve). */
export interface Resolved {
  def: RegisteredKey;
  value: unknown;
  /** The value is a secret this process cannot decrypt (`value` is then undefined). */
  undecryptable?: true;
  layer: Scope | 'default' | 'process';
  version: number;
  updatedAt: Date | undefined;
  updatedBy: Actor | undefined;
  layers: Layer[];
}

/** What a reader reads from: this process's values and how they resolve. */
export interface ReaderParts {
  registry: Registry;
  values: LiveValues;
  resolution: Resolution;
  /** CONFIG_OVERRIDE_<KEY> values of this process's environment: they win over anything stored. */
  overrides: ReadonlyMap<string, EnvOverride>;
  environments: readonly string[];
  environment: string;
  health: DatabaseHealth;
}

/**
 * Every read of the configuration, from memory only: never waits for the database, never throws
 * for a registered key, even with the database down. ConfigService is a reader that can also
 * write and follow.
 */
export class ConfigReader {
  protected readonly registry: Registry;
  protected readonly values: LiveValues;
  protected readonly resolution: Resolution;
  protected readonly overrides: ReadonlyMap<string, EnvOverride>;
  /** ENVIRONMENTS: the environments values may differ in. */
  readonly environments: readonly string[];
  /** APP_ENVIRONMENT: the environment this process reads values for. */
  readonly environment: string;
  readonly health: DatabaseHealth;

  constructor(parts: ReaderParts) {
    this.registry = parts.registry;
    this.values = parts.values;
    this.resolution = parts.resolution;
    this.overrides = parts.overrides;
    this.environments = parts.environments;
    this.environment = parts.environment;
    this.health = parts.health;
  }

  // ---- reads -------------------------------------------------------------------------------

  /**
   * The value in force, from memory: this process's environment override, else the one of its
   * environment (APP_ENVIRONMENT, or `at.environment`), of the server when `at.guildId` is given
   * first, else the global value, else the default. Never throws for a registered key, even with
   * the database down.
   */
  get<K extends ConfigKey>(key: K, at?: ReadAt): ConfigValues[K];
  get(key: string, at?: ReadAt): unknown;
  get(key: string, at?: ReadAt): unknown {
    const value = this.raw(key, at);
    // A secret this process cannot decrypt reads as unset here (it is served masked elsewhere).
    return value instanceof Undecryptable ? undefined : value;
  }

  /** get() before undecryptable values are hidden. */
  private raw(key: string, at?: ReadAt): unknown {
    this.health.warnServingFromMemory();
    if (this.overrides.size) {
      const forced = this.overrides.get(key);
      if (forced) return forced.value;
    }
    // Overrides exist only for keys that allow them (parseScope refuses the rest).
    const layers = this.values.layersOf(key);
    if (layers) {
      const environment = at?.environment ?? this.environment;
      if (layers.merge) return this.values.merged(key, layers, environment, at?.guildId);
      if (at?.guildId && layers.guild.size) {
        const g = layers.guild.get(at.guildId);
        if (g) return g.value;
      }
      const e = layers.env.get(environment);
      if (e) return e.value;
    }
    const entry = this.values.read(key);
    if (entry !== undefined) return entry.value;
    const def = this.registry.get(key);
    if (!def) throw new UserError('UNKNOWN_KEY', `Unknown setting ${key}.`, { key });
    return def.default;
  }

  /**
   * What a key resolves to for an environment and a server, and where that comes from: the
   * supplying layer (`process` for this process's CONFIG_OVERRIDE_<KEY>) with its version, and
   * every layer. Memory only; the value is not masked (callers mask sensitive keys).
   */
  resolve(input: string, at: ReadAt = {}): Resolved {
    const def = resolveKey(this.registry, input);
    const environment = at.environment ?? this.environment;
    const from: Scope =
      at.guildId && def.scopes.includes('guild') ? `guild:${at.guildId}` : `env:${environment}`;
    const layers = this.resolution.layers(def, from, environment);
    const supplier = layers.find((l) => l.supplies)?.scope ?? 'default';
    const held = supplier === 'default' ? undefined : this.values.peek(slotId(def.key, supplier));
    const forced = this.overrides.get(def.key);
    const value = this.raw(def.key, at);
    const locked = value instanceof Undecryptable;
    return {
      def,
      value: locked ? undefined : value,
      ...(locked ? { undecryptable: true as const } : {}),
      layer: forced ? 'process' : supplier,
      version: held?.version ?? 0,
      updatedAt: held?.updatedAt,
      updatedBy: held?.updatedBy,
      layers,
    };
  }

  /** Whether `key` is registered here (a process of another release may log keys this one lacks). */
  isRegistered(key: string): boolean {
    return this.registry.has(key);
  }

  /** Every registered key, in registry order. */
  keys(): string[] {
    return [...this.registry.keys()];
  }

  getAll(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of this.registry.keys())
      out[key] = this.overrides.has(key) ? this.overrides.get(key)?.value : this.values.value(key);
    return out;
  }

  /** The registered definition of a key; `input` is what a user typed (case-insensitive). */
  definition(input: string): RegisteredKey {
    return resolveKey(this.registry, input);
  }

  /**
   * One key with its metadata; `input` is what a user typed (case-insensitive). Without a scope:
   * the value in force for this process's environment and the server `guildId`, with every layer
   * explained; with one: what that layer holds.
   */
  describe(input: string, at: { scope?: string | null; guildId?: string | null } = {}): ConfigEntry {
    const def = resolveKey(this.registry, input);
    if (at.scope) return this.entry(def, this.scopeOf(def, at.scope));
    return this.entry(def, GLOBAL, at.guildId ?? undefined);
  }

  list(category?: Category): ConfigEntry[] {
    return [...this.registry.values()]
      .filter((d) => !category || d.category === category)
      .map((d) => this.entry(d))
      .sort((a, b) => a.category.localeCompare(b.category) || a.key.localeCompare(b.key));
  }

  /** Keys matching a search text (name or description), for autocomplete. */
  search(text: string, limit = 25): RegisteredKey[] {
    const q = text.trim().toUpperCase();
    const all = [...this.registry.values()];
    const byName = all.filter((d) => d.key.includes(q.replace(/\s+/g, '_')));
    const byDescription = all.filter((d) => !byName.includes(d) && d.description.toUpperCase().includes(q));
    return [...byName, ...byDescription].slice(0, limit);
  }

  /** The version this process holds for a key at a scope (0 when none). */
  cachedVersion(key: string, scope: Scope = GLOBAL): number {
    return this.values.peek(slotId(key, scope))?.version ?? 0;
  }

  /** What this process holds for a slot (version 0: nothing yet); values as held, undecryptable ones included. */
  heldState(slot: string): SlotState {
    const e = this.values.peek(slot);
    return e
      ? { version: e.version, value: e.value, ...(e.unset ? { unset: true } : {}) }
      : { version: 0, value: undefined };
  }

  /** This process's CONFIG_OVERRIDE_<KEY> of a key, if it has one (it wins over every layer). */
  processOverride(key: string): { value: unknown } | undefined {
    const forced = this.overrides.get(key);
    return forced && { value: forced.value };
  }

  /** The override scopes of a key that hold a value, most specific kind first (autocomplete, list). */
  overrideScopes(key: string): Scope[] {
    return this.values
      .overridesOf(key)
      .map((o) => o.scope)
      .sort((a, b) => b.localeCompare(a));
  }

  /** Keys marked requiresRestart that changed since this process started. */
  pendingRestart(): string[] {
    return this.values.pendingRestart();
  }

  /** Keys holding a value and overrides held, counted apart (slots that are not keys, flags, excluded). */
  heldCounts(): { keys: number; overrides: number } {
    const keys = this.keys();
    return {
      keys: keys.filter((k) => this.values.held(k)).length,
      overrides: keys.reduce((n, k) => n + this.values.overridesOf(k).length, 0),
    };
  }

  /** The scope a user typed, checked against the key's allowed scopes and ENVIRONMENTS. */
  /** The scope as typed (`global`, `env:staging`, `guild:<id>`), checked against what `def` allows. */
  scopeOf(def: RegisteredKey, typed: string | null | undefined): Scope {
    return parseScope(typed, { key: def.key, allowed: def.scopes, environments: this.environments });
  }

  /** What a slot holds now (an override with no value is `unset`, at its version or 0). */
  current(def: RegisteredKey, scope: Scope): { value: unknown; version: number; unset?: boolean } {
    const slot = slotId(def.key, scope);
    const entry = this.values.peek(slot);
    if (scope === GLOBAL) return { value: this.values.value(def.key), version: entry?.version ?? 0 };
    return entry && !entry.unset
      ? { value: entry.value, version: entry.version }
      : { value: undefined, version: entry?.version ?? 0, unset: true };
  }

  /**
   * A key as a view shows it. At the global scope with no layer asked for: the value in force for
   * this process's environment and `guildId`, with every layer; at an override scope: that layer.
   */
  private entry(def: RegisteredKey, scope: Scope = GLOBAL, guildId?: string): ConfigEntry {
    const overrides = this.values.overridesOf(def.key).length;
    const forced = this.overrides.get(def.key);
    if (scope !== GLOBAL) {
      const slot = this.values.peek(slotId(def.key, scope));
      const held = slot && !slot.unset ? slot : undefined;
      return entryOf(
        def,
        {
          value: held ? held.value : this.resolution.at(def.key, parentOf(scope, this.environment)),
          version: slot?.version ?? 0,
          updatedBy: held?.updatedBy,
          updatedAt: held?.updatedAt,
        },
        { scope, overrides, layers: this.resolution.layers(def, scope) },
      );
    }
    const global = this.values.peek(def.key);
    // Where this view reads from: the server's layer when the key has one, else the environment's.
    const from: Scope =
      guildId && def.scopes.includes('guild') ? `guild:${guildId}` : `env:${this.environment}`;
    const layers = this.resolution.layers(def, from);
    const supplier = layers.find((l) => l.supplies);
    const fromLayer =
      supplier && supplier.scope !== 'global' && supplier.scope !== 'default'
        ? this.values.held(slotId(def.key, supplier.scope))
        : undefined;
    const resolved = this.resolution.at(def.key, from);
    const entry = entryOf(
      def,
      {
        value: forced ? forced.value : resolved,
        version: fromLayer?.version ?? global?.version ?? 0,
        updatedBy: fromLayer?.updatedBy ?? global?.updatedBy,
        updatedAt: fromLayer?.updatedAt ?? global?.updatedAt,
      },
      { scope: GLOBAL, overrides, ...(layers.length > 2 ? { layers } : {}) },
    );
    return forced
      ? { ...entry, override: { variable: forced.variable, storedDisplay: present(def, resolved) } }
      : entry;
  }
}
