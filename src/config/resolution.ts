import { UserError } from '../base/errors.js';
import type { LiveValues } from './live-values.js';
import { mergeLayers } from './merge.js';
import { present } from './present.js';
import type { RegisteredKey, Registry } from './registry.js';
import { GLOBAL, slotId, type Scope } from './scopes.js';
import type { Layer } from './types.js';

/**
 * How a key resolves from its layers, for one process: guild → its environment → global →
 * default, and for a `merge: 'deep'` key the merge of those layers. Reads memory only; the
 * service's hot get() has its own shortcut over LiveValues.layersOf().
 */
export class Resolution {
  constructor(
    private readonly values: LiveValues,
    private readonly registry: Registry,
    /** APP_ENVIRONMENT: the environment a guild's value inherits from. */
    readonly environment: string,
  ) {}

  /** The value `key` resolves to at `scope` (guild → this process's environment → global → default). */
  at(key: string, scope: Scope): unknown {
    const def = this.registry.get(key);
    if (def?.merge === 'deep') return this.merged(def, scope);
    const held = (s: Scope) => this.values.held(slotId(key, s));
    if (scope.startsWith('guild:')) {
      const g = held(scope);
      if (g) return g.value;
      scope = `env:${this.environment}`;
    }
    if (scope.startsWith('env:')) {
      const e = held(scope);
      if (e) return e.value;
    }
    return this.values.value(key);
  }

  /**
   * The value of a `merge: 'deep'` key in force at `scope`: the layers from global down to it
   * merged, with `next` standing in for the value at `scope` itself when given. For any other
   * key: `next` (or what `scope` resolves to).
   */
  merged(def: RegisteredKey, scope: Scope, next?: unknown): unknown {
    if (def.merge !== 'deep') return next !== undefined ? next : this.at(def.key, scope);
    return this.mergedWith(def, scope, scope, next);
  }

  /**
   * For a `merge: 'deep'` key: refuses a value at `scope` that would leave the merged whole
   * invalid there, or at any more specific scope holding an override that inherits from it.
   */
  checkMerged(def: RegisteredKey, scope: Scope, next: unknown): void {
    if (def.merge !== 'deep') return;
    const below = this.values
      .overridesOf(def.key)
      .map((o) => o.scope)
      .filter((s) => inheritsFrom(s, scope, this.environment));
    for (const at of [scope, ...below]) {
      const whole = this.mergedWith(def, at, scope, next);
      const result = def.schema.safeParse(JSON.stringify(whole));
      if (!result.success) {
        const why = result.error.issues.map((i) => i.message).join('; ');
        throw new UserError(
          'INVALID_VALUE',
          `${def.key}${at === GLOBAL ? '' : ` at ${at}`} would become ${JSON.stringify(whole)}, which is not allowed: ${why}. Nothing was changed.`,
          { key: def.key },
        );
      }
    }
  }

  /**
   * The merged value of a `merge: 'deep'` key at `at` (global, then its environment, then its
   * server), with the layer `written` holding `next` instead of what it holds (when `next` is given).
   */
  private mergedWith(def: RegisteredKey, at: Scope, written: Scope, next: unknown): unknown {
    const chain: Scope[] = [GLOBAL];
    if (at.startsWith('env:')) chain.push(at);
    if (at.startsWith('guild:')) chain.push(`env:${this.environment}`, at);
    const value = (s: Scope) =>
      s === written && next !== undefined
        ? next
        : s === GLOBAL
          ? this.values.value(def.key)
          : this.values.held(slotId(def.key, s))?.value;
    return mergeLayers(chain.map(value));
  }

  /**
   * The layers `key` resolves through from `from` down to its default, the supplier marked; a
   * server's layer inherits from `environment` (default: this process's).
   */
  layers(def: RegisteredKey, from: Scope, environment = this.environment): Layer[] {
    const chain: Scope[] = [];
    if (from.startsWith('guild:') && def.scopes.includes('guild')) chain.push(from);
    if (def.scopes.includes('env')) chain.push(from.startsWith('env:') ? from : `env:${environment}`);
    chain.push(GLOBAL);
    let supplied = false;
    const layers: Layer[] = chain.map((scope) => {
      const entry = this.values.peek(slotId(def.key, scope));
      const has = scope === GLOBAL ? entry !== undefined : Boolean(entry && !entry.unset);
      const supplies = has && !supplied;
      if (supplies) supplied = true;
      return {
        scope,
        display: has ? present(def, entry?.value) : undefined,
        version: entry?.version ?? 0,
        supplies,
      };
    });
    layers.push({ scope: 'default', display: present(def, def.default), version: 0, supplies: !supplied });
    return layers;
  }
}

/** What one slot holds at some position of the change log: its version and value. */
export interface SlotState {
  version: number;
  value: unknown;
  /** The version removed the override (action unset): the slot holds no value. */
  unset?: boolean;
}

/** A key resolved from given layer states (see resolveLayers). */
export interface ResolvedState {
  value: unknown;
  layer: Scope | 'default';
  /** The supplying layer's version (0 for the default). */
  version: number;
}

/**
 * How a key resolves from the states of its layers, most specific first (`guild:<id>`, then
 * `env:<name>`, then global), as Resolution does from this process's memory: the first layer
 * holding a value supplies it, or for a `merge: 'deep'` key the merge of every layer; a global
 * layer at version 0 (never written) is the default. Pure: the states may be those of any
 * position of the change log (a replayed event resolves as of its own position).
 */
export function resolveLayers(
  def: RegisteredKey,
  chain: readonly { scope: Scope; state: SlotState | undefined }[],
): ResolvedState {
  const holds = (c: { scope: Scope; state: SlotState | undefined }) =>
    c.state !== undefined && c.state.version > 0 && !c.state.unset;
  const supplier = chain.find(holds);
  if (def.merge === 'deep') {
    const values = [...chain]
      .reverse()
      .map((c) => (holds(c) ? c.state?.value : c.scope === GLOBAL ? def.default : undefined));
    return {
      value: mergeLayers(values),
      layer: supplier?.scope ?? 'default',
      version: supplier?.state?.version ?? 0,
    };
  }
  if (!supplier?.state) return { value: def.default, layer: 'default', version: 0 };
  return { value: supplier.state.value, layer: supplier.scope, version: supplier.state.version };
}

/** The scope a value at `scope` inherits from: guild → this process's environment → global. */
export function parentOf(scope: Scope, environment: string): Scope {
  if (scope.startsWith('guild:')) return `env:${environment}`;
  return GLOBAL;
}

/** Whether a value at `child` inherits from `parent` when it holds none of its own. */
export function inheritsFrom(child: Scope, parent: Scope, environment: string): boolean {
  if (child === parent) return false;
  if (parent === GLOBAL) return true;
  return parent === `env:${environment}` && child.startsWith('guild:');
}
