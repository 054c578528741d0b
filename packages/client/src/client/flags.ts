import {
  FlagCounts,
  FlagSet,
  type Explanation,
  type FlagCountsSnapshot,
  type FlagVariant,
} from '../flags/evaluate.js';
import type { FlagContext, FlagDefinition } from '../flags/model.js';
import type { WireFlag, WireFlagEvent } from '../wire.js';
import type { FlagChange } from './types.js';

/** What the last-known-good file keeps of the flags. */
export interface FlagsState {
  /** The server's environment (GET /v1/flags): the default of a context without one. */
  environment: string;
  items: WireFlag[];
}

/** The client's own environment and guild: a context that names none is evaluated for these. */
export interface FlagDefaults {
  env: string | null;
  guild: string | null;
}

/**
 * The flags in memory and the FlagSet that evaluates them (the server's own engine, so the client
 * answers exactly as the server would). Evaluation is a memory read that never throws; loading and
 * applying return what changed, so the caller can tell listeners. Counts are kept across swaps and
 * handed out as deltas for reports.
 */
export class ClientFlags {
  private held = new Map<string, WireFlag>();
  private readonly counts = new FlagCounts();
  private evaluator: FlagSet;
  private environment: string | undefined;
  /** Counts already reported (or being reported): the next delta is what was counted since. */
  private reported: FlagCountsSnapshot = {};
  /** Flags were loaded (from the API or the file); false while the API has no flags. */
  loaded = false;

  constructor(private readonly defaults: FlagDefaults) {
    this.evaluator = this.build([]);
  }

  /** Whether the flag is on for this context (unknown flags are off); counted. Never throws. */
  isEnabled(name: string, ctx?: FlagContext): boolean {
    return this.evaluator.isEnabled(name, this.context(ctx));
  }

  /** The variant for this context; `disabled` when the flag is off. Counted. Never throws. */
  variant(name: string, ctx?: FlagContext): FlagVariant {
    return this.evaluator.variant(name, this.context(ctx));
  }

  /** The rule that decided; not counted. Never throws. */
  explain(name: string, ctx?: FlagContext): Explanation {
    return this.evaluator.explain(name, this.context(ctx));
  }

  /** The flag held under this name, as the API sent it. */
  get(name: string): WireFlag | undefined {
    return this.held.get(name);
  }

  /** How many flags are held, archived ones included. */
  get size(): number {
    return this.held.size;
  }

  /** Every flag held, archived ones included, by name. */
  list(): WireFlag[] {
    return [...this.held.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Replaces every flag (a fresh list, or the file); the differences are changes when flags were held. */
  load(items: WireFlag[], environment: string, seq: number): FlagChange[] {
    const next = new Map(items.map((f) => [f.name, deepFreeze(f)]));
    const changes: FlagChange[] = [];
    if (this.loaded)
      for (const [name, flag] of next) {
        const old = this.held.get(name);
        if (old && JSON.stringify(withoutMeta(old)) === JSON.stringify(withoutMeta(flag))) continue;
        changes.push(change(flag, old, 'resync', null, seq));
      }
    this.held = next;
    this.environment = environment;
    this.loaded = true;
    this.evaluator = this.build(next.values());
    return changes;
  }

  /** Applies one `event: flag`; undefined when the flag held is already at that version or newer. */
  apply(event: WireFlagEvent): FlagChange | undefined {
    const old = this.held.get(event.name);
    if (old && old.version >= event.flag.version) return undefined;
    const flag = deepFreeze(event.flag);
    this.held.set(event.name, flag);
    this.loaded = true;
    this.evaluator = this.build(this.held.values());
    return change(flag, old, event.action, event.actor, event.seq);
  }

  /** What the last-known-good file keeps; undefined while no flags were loaded. */
  state(): FlagsState | undefined {
    if (!this.loaded || this.environment === undefined) return undefined;
    return { environment: this.environment, items: [...this.held.values()] };
  }

  /** Evaluations per flag per reason since the previous call; give it back when its report fails. */
  takeCounts(): FlagCountsSnapshot {
    const now = this.counts.snapshot();
    const delta: FlagCountsSnapshot = {};
    for (const [name, row] of Object.entries(now)) {
      const before = this.reported[name] ?? {};
      const diff: Record<string, number> = {};
      for (const [reason, n] of Object.entries(row)) {
        const d = n - (before[reason as keyof typeof before] ?? 0);
        if (d > 0) diff[reason] = d;
      }
      if (Object.keys(diff).length) delta[name] = diff;
    }
    this.reported = now;
    return delta;
  }

  /** A delta whose report failed: the next takeCounts includes it again. */
  giveBack(delta: FlagCountsSnapshot): void {
    for (const [name, row] of Object.entries(delta)) {
      const before: Record<string, number> = { ...this.reported[name] };
      for (const [reason, n] of Object.entries(row)) before[reason] = (before[reason] ?? 0) - (n ?? 0);
      this.reported[name] = before;
    }
  }

  /** Flags the engine left out (a definition it refused): they evaluate as unknown. */
  rejected(name: string): boolean {
    return this.evaluator.rejected.some((r) => r.name === name);
  }

  private build(items: Iterable<WireFlag>): FlagSet {
    const environment = this.defaults.env ?? this.environment;
    const definitions = [...items].map(withoutMeta);
    return new FlagSet(definitions, { counts: this.counts, ...(environment ? { environment } : {}) });
  }

  /** The client's guild when the context names none (the environment is the FlagSet's default). */
  private context(ctx: FlagContext | undefined): FlagContext | undefined {
    const guild = this.defaults.guild;
    if (guild === null) return ctx;
    try {
      if (ctx?.guildId !== undefined) return ctx;
      return { ...ctx, guildId: guild };
    } catch {
      // A context whose getter throws: the engine reads it again and answers `error`, never a throw.
      return ctx;
    }
  }
}

function withoutMeta(flag: WireFlag): FlagDefinition {
  const { version: _v, updatedAt: _a, updatedBy: _b, ...definition } = flag;
  return definition;
}

function change(
  flag: WireFlag,
  old: WireFlag | undefined,
  action: string,
  actor: FlagChange['actor'],
  seq: number,
): FlagChange {
  return Object.freeze({
    name: flag.name,
    version: flag.version,
    action,
    enabled: flag.enabled && !flag.archived,
    archived: flag.archived,
    actor,
    seq,
    flag: withoutMeta(flag),
    previous: old ? withoutMeta(old) : undefined,
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
