/**
 * Explanations for people: the rule that decided, what it compared, and one line saying so.
 */
import { preview } from '../text.js';
import { bucket } from './buckets.js';
import { conditionText } from './describe.js';
import type { Compiled } from './compile.js';
import { lookup, text } from './context.js';
import type { Condition, FlagContext, FlagDefinition } from './model.js';
import { isOn, REASONS, type Reason } from './reasons.js';
import { safely, type Detail } from './rules.js';
import { pickVariant } from './variants.js';

/** The rule that decided, with what it looked at. `message` is one line for people. */
export interface Explanation {
  flag: string;
  enabled: boolean;
  reason: Reason;
  message: string;
  /** The variant chosen, when the flag is on and has variants. */
  variant?: string;
  environment?: string;
  /** Included or excluded as this user, role or server. */
  by?: 'user' | 'role' | 'guild';
  id?: string;
  prerequisite?: { name: string; reason: Reason; message: string };
  /** The prerequisite cycle this flag is in, first name repeated at the end. */
  cycle?: string[];
  condition?: Condition & { index: number; actual?: string };
  rollout?: { percentage: number; stickiness: string; group: string; bucket?: number };
}

/** Explains a compiled flag; `environment` is the set's. Throws if a context read throws after `decide` (FlagSet.explain catches). */
export function explainFlag(f: Compiled, ctx: FlagContext, environment: string | undefined): Explanation {
  const out: Detail = {};
  const code = safely(f, ctx, environment, out);
  const reason = REASONS[code] ?? 'error';
  const e: Explanation = { flag: f.name, enabled: isOn(code), reason, message: '' };
  const def = f.def;
  if (out.by) [e.by, e.id] = [out.by, out.id];
  if (reason === 'environment') e.environment = text(ctx.environment ?? environment);
  if (reason === 'prerequisite_cycle' && f.cycle) e.cycle = f.cycle;
  if (out.prerequisite !== undefined) {
    const p = out.prerequisite;
    // A prerequisite left as a name matched no flag in the set (see `link`), so it is unknown.
    const why = typeof p === 'string' ? explanation(p, 'unknown_flag') : explainFlag(p, ctx, environment);
    e.prerequisite = { name: why.flag, reason: why.reason, message: why.message };
  }
  if (out.condition !== undefined) {
    const c = def.conditions[out.condition] as Condition;
    e.condition = { index: out.condition, ...c, values: [...c.values] };
    if (out.actual !== undefined) e.condition.actual = out.actual;
  }
  if (reason === 'rollout_in' || reason === 'rollout_out' || reason === 'missing_stickiness') {
    const value = lookup(f.stickiness, ctx, environment);
    e.rollout = { percentage: def.rollout, stickiness: def.stickiness, group: def.group ?? def.name };
    if (value) e.rollout.bucket = bucket(f.prefix, value);
  }
  if (e.enabled && f.variants) e.variant = pickVariant(f, ctx, environment).name;
  e.message = e.variant ? `${describe(e, def)}; variant ${e.variant}` : describe(e, def);
  return e;
}

const ERROR_MESSAGE = 'the context could not be read; off';

/** The explanations that need no flag definition. */
export const explanation = (flag: string, reason: 'unknown_flag' | 'error'): Explanation => ({
  flag: String(flag),
  enabled: false,
  reason,
  message: reason === 'error' ? ERROR_MESSAGE : `no flag is named ${quoted(flag)}`,
});

const quoted = (s: unknown): string => `\`${preview(String(s))}\``;
const TARGET = { user: 'user', role: 'role', guild: 'server' } as const;

/** One line for people: what decided, with the values it compared. */
function describe(e: Explanation, def: FlagDefinition): string {
  const r = e.rollout;
  switch (e.reason) {
    case 'unknown_flag':
      return `no flag is named ${quoted(e.flag)}`;
    case 'archived':
      return 'the flag is archived';
    case 'disabled':
      return 'the flag is switched off (kill switch)';
    case 'environment':
      return `${e.environment === undefined ? 'no environment given' : `not on in ${quoted(e.environment)}`}; on in ${def.environments.length ? def.environments.join(', ') : 'no environment'}`;
    case 'before_start':
      return `before its start, ${def.start ?? ''}`;
    case 'after_end':
      return `after its end, ${def.end ?? ''}`;
    case 'excluded':
    case 'included':
      return `${TARGET[e.by ?? 'user']} ${e.id ?? ''} is ${e.reason}`;
    case 'prerequisite_cycle':
      return `its prerequisites form a cycle: ${(e.cycle ?? []).join(' → ')}`;
    case 'prerequisite_off':
      return `prerequisite ${quoted(e.prerequisite?.name)} is off: ${e.prerequisite?.message ?? ''}`;
    case 'condition_failed': {
      const c = e.condition;
      if (!c) return 'a condition failed';
      const seen =
        c.actual === undefined ? `${c.attribute} is not set` : `${c.attribute} is ${quoted(c.actual)}`;
      return `condition ${c.index + 1} failed: ${conditionText(c, (v) => preview(v, 20))} (${seen})`;
    }
    case 'missing_stickiness':
      return `no ${def.stickiness} in the context to place it in the ${def.rollout}% rollout`;
    case 'rollout_in':
    case 'rollout_out': {
      const where =
        r?.bucket === undefined ? '' : `bucket ${r.bucket} ${e.reason === 'rollout_in' ? '≤' : '>'} `;
      return `${e.reason === 'rollout_in' ? 'in' : 'out of'} the rollout: ${where}${def.rollout}%`;
    }
    case 'error':
      return ERROR_MESSAGE;
  }
}
