/**
 * Precompilation: turns a valid flag definition into the structure evaluation reads (ids into Sets,
 * condition values parsed once, variants weighed), and marks the flags in prerequisite cycles.
 */
import type { Address4, Address6 } from 'ip-address';
import type semver from 'semver';
import { keyOf, type Key } from './context.js';
import type { FlagCounts } from './counts.js';
import type { Condition, FlagDefinition } from './model.js';
import { compileRegex, parseAddress, parseDate, parseNumber, parseSemver } from './values.js';
import { compileVariants, type CompiledVariants } from './variants.js';

export interface CompiledCondition {
  def: Condition;
  key: Key;
  test: (value: string | undefined) => boolean;
}

export interface Compiled {
  def: FlagDefinition;
  name: string;
  envs: ReadonlySet<string>;
  start: number;
  end: number;
  exclude: Targets | null;
  include: Targets | null;
  prerequisites: (Compiled | string)[];
  cycle: string[] | null;
  conditions: CompiledCondition[];
  stickiness: Key;
  /** `<group>:`, the hashed text before the stickiness value. */
  prefix: string;
  variants: CompiledVariants;
  counts: number[];
}

export interface Targets {
  users: ReadonlySet<string>;
  roles: ReadonlySet<string>;
  guilds: ReadonlySet<string>;
}

const targets = (t: FlagDefinition['include']): Targets | null =>
  t.users.length + t.roles.length + t.guilds.length === 0
    ? null
    : { users: new Set(t.users), roles: new Set(t.roles), guilds: new Set(t.guilds) };

/**
 * A test per condition, with its values parsed once, as unleash-client evaluates Unleash's
 * operators: a missing attribute fails every operator but `not_in` and `not_equals` (before
 * `inverted`, which turns any answer around); numbers in the context are read as JavaScript's
 * Number reads them, dates and versions must be valid or the comparison fails.
 */
function compileCondition(def: Condition): CompiledCondition {
  const fold = def.caseInsensitive === true;
  const values = fold ? def.values.map((x) => x.toLocaleLowerCase()) : def.values;
  const [first = ''] = values;
  const set = new Set(values);
  const num = parseNumber(first) ?? NaN;
  const date = parseDate(first) ?? NaN;
  const version = parseSemver(first);
  const compiled = def.operator === 'regex' ? compileRegex(def.values[0] ?? '', fold) : undefined;
  // Valid by the schema; a pattern that still does not compile matches nothing.
  const regex = compiled && !('error' in compiled) ? compiled : undefined;
  const ranges = def.operator === 'in_cidr' ? def.values.map(parseAddress) : [];
  // One-entry memo, as for versions: the same address is usually asked about many times in a row.
  let lastAddress: string | undefined;
  let lastParsed: ReturnType<typeof parseAddress>;
  const address = (v: string | undefined) => {
    if (v !== lastAddress) [lastAddress, lastParsed] = [v, v === undefined ? undefined : parseAddress(v)];
    return lastParsed;
  };
  // One-entry memo: an application usually passes the same version string many times in a row.
  let lastText: string | undefined;
  let lastVersion: semver.SemVer | undefined;
  const cmp = (v: string | undefined): number => {
    if (v === undefined || !version) return NaN;
    if (v !== lastText) [lastText, lastVersion] = [v, parseSemver(v)];
    return lastVersion ? lastVersion.compare(version) : NaN;
  };
  // Unleash reads a context number with Number(): '' is 0 and ' 7 ' is 7; a missing one is NaN.
  const n = (v: string | undefined) => (v === undefined ? NaN : Number(v));
  const d = (v: string | undefined) => (v === undefined ? NaN : Date.parse(v));
  const t = (v: string | undefined) => (fold && v !== undefined ? v.toLocaleLowerCase() : v);
  // Whether any value matches the context's text (folded once); a missing attribute matches none.
  const any = (v: string | undefined, match: (text: string, value: string) => boolean) => {
    const text = t(v);
    return text !== undefined && values.some((x) => match(text, x));
  };
  const tests: Record<Condition['operator'], (v: string | undefined) => boolean> = {
    in: (v) => v !== undefined && set.has(v),
    not_in: (v) => v === undefined || !set.has(v),
    equals: (v) => t(v) === first,
    not_equals: (v) => t(v) !== first,
    contains: (v) => any(v, (text, x) => text.includes(x)),
    starts_with: (v) => any(v, (text, x) => text.startsWith(x)),
    ends_with: (v) => any(v, (text, x) => text.endsWith(x)),
    regex: (v) => v !== undefined && regex !== undefined && regex.matcher(v).find(),
    in_cidr: (v) => inRanges(address(v), ranges),
    num_eq: (v) => n(v) === num,
    lt: (v) => n(v) < num,
    lte: (v) => n(v) <= num,
    gt: (v) => n(v) > num,
    gte: (v) => n(v) >= num,
    before: (v) => d(v) < date,
    after: (v) => d(v) > date,
    semver_eq: (v) => cmp(v) === 0,
    semver_lt: (v) => cmp(v) < 0,
    semver_lte: (v) => cmp(v) <= 0,
    semver_gt: (v) => cmp(v) > 0,
    semver_gte: (v) => cmp(v) >= 0,
  };
  const test = tests[def.operator];
  return { def, key: keyOf(def.attribute), test: def.inverted === true ? (v) => !test(v) : test };
}

/** Whether an address is in one of the ranges (or is one of the addresses), of its own family. */
function inRanges(
  address: Address4 | Address6 | undefined,
  ranges: readonly (Address4 | Address6 | undefined)[],
): boolean {
  if (!address) return false;
  return ranges.some(
    (r) =>
      r !== undefined &&
      r.v4 === address.v4 &&
      (address.correctForm() === r.correctForm() || address.isInSubnet(r)),
  );
}

/** A flag's structure with its prerequisites still unresolved (`link` resolves them once all are compiled). */
export function compile(def: FlagDefinition, counts: FlagCounts): Compiled {
  return {
    def,
    name: def.name,
    envs: new Set(def.environments),
    start: def.start ? Date.parse(def.start) : -Infinity,
    end: def.end ? Date.parse(def.end) : Infinity,
    exclude: targets(def.exclude),
    include: targets(def.include),
    prerequisites: [],
    cycle: null,
    conditions: def.conditions.map(compileCondition),
    stickiness: keyOf(def.stickiness),
    prefix: `${def.group ?? def.name}:`,
    variants: compileVariants(def),
    counts: counts.forFlag(def.name),
  };
}

/** Resolves prerequisites to compiled flags (a name stays a name when no flag has it), then marks cycles. */
export function link(flags: Map<string, Compiled>): void {
  for (const f of flags.values()) f.prerequisites = f.def.prerequisites.map((p) => flags.get(p) ?? p);
  markCycles(flags);
}

/** Marks every flag in a prerequisite cycle (Tarjan's strongly connected components) with one cycle through it. */
function markCycles(flags: Map<string, Compiled>): void {
  let index = 0;
  const at = new Map<Compiled, { index: number; low: number }>();
  const stack: Compiled[] = [];
  const onStack = new Set<Compiled>();
  const edges = (f: Compiled) => f.prerequisites.filter((p): p is Compiled => typeof p !== 'string');
  const visit = (f: Compiled): void => {
    const me = { index, low: index++ };
    at.set(f, me);
    stack.push(f);
    onStack.add(f);
    for (const p of edges(f)) {
      const seen = at.get(p);
      if (!seen) {
        visit(p);
        me.low = Math.min(me.low, at.get(p)?.low ?? me.low);
      } else if (onStack.has(p)) me.low = Math.min(me.low, seen.index);
    }
    if (me.low !== me.index) return;
    const component = new Set<Compiled>();
    for (let g = stack.pop(); g; g = stack.pop()) {
      onStack.delete(g);
      component.add(g);
      if (g === f) break;
    }
    if (component.size > 1 || edges(f).includes(f))
      for (const g of component) g.cycle = cycleThrough(g, component, edges);
  };
  for (const f of flags.values()) if (!at.has(f)) visit(f);
}

/** The shortest path from `f` back to itself inside its component, as names. */
function cycleThrough(f: Compiled, within: Set<Compiled>, edges: (f: Compiled) => Compiled[]): string[] {
  const from = new Map<Compiled, Compiled>();
  const queue = [f];
  for (let i = 0; i < queue.length; i++) {
    const g = queue[i] as Compiled;
    for (const p of edges(g)) {
      if (!within.has(p)) continue;
      if (p === f) {
        const path = [f.name];
        for (let h: Compiled | undefined = g; h && h !== f; h = from.get(h)) path.splice(1, 0, h.name);
        return [...path, f.name];
      }
      if (!from.has(p)) {
        from.set(p, g);
        queue.push(p);
      }
    }
  }
  return [f.name, f.name];
}
