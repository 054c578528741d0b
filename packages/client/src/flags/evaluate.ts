/**
 * Flag evaluation: in memory, no I/O, and it never throws. A FlagSet is built once from flag
 * definitions (ids into Sets, condition values parsed, prerequisites resolved, cycles found), and
 * swapped for a new one when a flag changes (`set.with(definitions)` keeps the evaluation counts).
 *
 * This module is the facade: FlagSet and the public API. The work is in compile.ts (definitions to
 * precompiled structures, cycles), rules.ts (the evaluation order and its checks), variants.ts,
 * explain.ts (reasons for people), counts.ts and buckets.ts (Unleash-compatible hashing).
 */
import { compile, link, type Compiled } from './compile.js';
import { text } from './context.js';
import { FlagCounts, type FlagCountsSnapshot } from './counts.js';
import { explainFlag, explanation, type Explanation } from './explain.js';
import type { FlagContext, FlagDefinition, FlagInput } from './model.js';
import { flagSchema, formatIssues } from './schema.js';
import { isOn } from './reasons.js';
import { safely } from './rules.js';
import { DISABLED_VARIANT, NO_VARIANT, pickVariant, type FlagVariant } from './variants.js';

export { rolloutBucket } from './buckets.js';
export { FlagCounts, type FlagCountsSnapshot } from './counts.js';
export type { Explanation } from './explain.js';
export { REASONS, type Reason } from './reasons.js';
export type { FlagVariant } from './variants.js';

const EMPTY: FlagContext = {};

export interface FlagSetOptions {
  /** The environment of a context that names none (the process's APP_ENVIRONMENT). */
  environment?: string;
  /** Shared with the set this one replaces, so counts survive a swap. Default: new counts. */
  counts?: FlagCounts;
}

/** An immutable set of flags to evaluate; build a new one (`with`) when flags change. */
export class FlagSet {
  /** Definitions left out because they are invalid or repeat a name; they evaluate as unknown. */
  readonly rejected: readonly { name: string; errors: string[] }[];
  private readonly flags = new Map<string, Compiled>();
  private readonly countsStore: FlagCounts;

  constructor(
    definitions: Iterable<FlagInput>,
    private readonly options: FlagSetOptions = {},
  ) {
    this.countsStore = options.counts ?? new FlagCounts();
    const rejected: { name: string; errors: string[] }[] = [];
    for (const input of definitions) {
      const r = flagSchema.safeParse(input);
      const name = text((input as { name?: unknown } | null)?.name) ?? '?';
      if (!r.success) rejected.push({ name, errors: formatIssues(r.error) });
      else if (this.flags.has(r.data.name))
        rejected.push({ name, errors: ['name: another flag has this name'] });
      else this.flags.set(r.data.name, compile(r.data, this.countsStore));
    }
    link(this.flags);
    this.rejected = rejected;
  }

  /** A set of these definitions with the same options and counts. */
  with(definitions: Iterable<FlagInput>): FlagSet {
    return new FlagSet(definitions, { ...this.options, counts: this.countsStore });
  }

  get size(): number {
    return this.flags.size;
  }

  names(): string[] {
    return [...this.flags.keys()];
  }

  get(name: string): FlagDefinition | undefined {
    return this.flags.get(name)?.def;
  }

  /** Whether the flag is on for this context; unknown flags are off. Counted. */
  isEnabled(name: string, ctx?: FlagContext): boolean {
    const f = this.flags.get(name);
    if (!f) {
      this.countsStore.countUnknown(name);
      return false;
    }
    const code = safely(f, ctx ?? EMPTY, this.options.environment, null);
    f.counts[code] = (f.counts[code] ?? 0) + 1;
    return isOn(code);
  }

  /** The variant for this context, Unleash's way; `disabled` when the flag is off. Counted. */
  variant(name: string, ctx?: FlagContext): FlagVariant {
    const f = this.flags.get(name);
    if (!f) {
      this.countsStore.countUnknown(name);
      return DISABLED_VARIANT;
    }
    const c = ctx ?? EMPTY;
    const code = safely(f, c, this.options.environment, null);
    f.counts[code] = (f.counts[code] ?? 0) + 1;
    if (!isOn(code)) return DISABLED_VARIANT;
    try {
      return pickVariant(f, c, this.options.environment);
    } catch {
      return NO_VARIANT; // a context whose getter throws on the second read; still never a throw
    }
  }

  /** The rule that decided, and what it saw. Not counted: it is for people, not for traffic. */
  explain(name: string, ctx?: FlagContext): Explanation {
    const f = this.flags.get(name);
    if (!f) return explanation(name, 'unknown_flag');
    try {
      return explainFlag(f, ctx ?? EMPTY, this.options.environment);
    } catch {
      return explanation(name, 'error');
    }
  }

  /** Evaluations per flag per reason since the counts were created (unknown names included). */
  counts(): FlagCountsSnapshot {
    return this.countsStore.snapshot();
  }
}
