/**
 * The ordered rule checks: which rule decides for a compiled flag and a context, as a reason code.
 *
 * Evaluation order; the first rule that decides is the reason `explain` gives:
 *  1. unknown flag → off (and counted under its name, to catch typos in code; FlagSet checks this)
 *  2. archived → off
 *  3. kill switch (`enabled: false`) → off
 *  4. environment (the context's, else the set's) not in `environments` → off
 *  5. before `start` → off; at or after `end` → off
 *  6. the user, one of the roles, or the server is in `exclude` → off
 *  7. prerequisites: a prerequisite in a cycle (this flag included) → off; the first prerequisite
 *     that is off for this same context → off
 *  8. the user, one of the roles, or the server is in `include` → on (skips 9 and 10)
 *  9. the first condition that fails → off (conditions are ANDed)
 * 10. rollout: 100 → on, 0 → off; otherwise no stickiness value → off, else on when
 *     bucket ≤ percentage, bucket = murmur3_x86_32(`<group>:<value>`, seed 0) % 100 + 1.
 * Rules 1-7 gate everyone, included users too. A context that cannot be read at all (a getter that
 * throws) is off with reason `error`.
 *
 * `environment` below is always the set's, used when the context names none.
 */
import { bucket } from './buckets.js';
import type { Compiled, CompiledCondition, Targets } from './compile.js';
import { lookup, text, timeOf } from './context.js';
import type { FlagContext } from './model.js';
import {
  AFTER_END,
  ARCHIVED,
  BEFORE_START,
  CONDITION_FAILED,
  CYCLE,
  DISABLED,
  ENVIRONMENT,
  ERROR,
  EXCLUDED,
  INCLUDED,
  isOn,
  MISSING_STICKINESS,
  PREREQUISITE_OFF,
  ROLLOUT_IN,
  ROLLOUT_OUT,
} from './reasons.js';

/** What `decide` looked at, filled only for `explain`. */
export interface Detail {
  by?: 'user' | 'role' | 'guild';
  id?: string;
  prerequisite?: Compiled | string;
  condition?: number;
  actual?: string;
}

export function safely(
  f: Compiled,
  ctx: FlagContext,
  environment: string | undefined,
  out: Detail | null,
): number {
  try {
    return decide(f, ctx, environment, out);
  } catch {
    // Only a hostile context gets here (a getter that throws); the answer is off, never a throw.
    return ERROR;
  }
}

function decide(f: Compiled, ctx: FlagContext, environment: string | undefined, out: Detail | null): number {
  const def = f.def;
  if (def.archived) return ARCHIVED;
  if (!def.enabled) return DISABLED;
  if (!f.envs.has(ctx.environment ?? environment ?? '')) return ENVIRONMENT;
  if (f.start !== -Infinity || f.end !== Infinity) {
    const now = timeOf(ctx);
    if (now < f.start) return BEFORE_START;
    if (now >= f.end) return AFTER_END;
  }
  if (f.exclude && matches(f.exclude, ctx, out)) return EXCLUDED;
  if (f.cycle) return CYCLE;
  for (const p of f.prerequisites) {
    if (typeof p === 'string' || !isOn(decide(p, ctx, environment, null))) {
      if (out) out.prerequisite = p;
      return PREREQUISITE_OFF;
    }
  }
  if (f.include && matches(f.include, ctx, out)) return INCLUDED;
  for (let i = 0; i < f.conditions.length; i++) {
    const c = f.conditions[i] as CompiledCondition;
    const v = lookup(c.key, ctx, environment);
    if (!c.test(v)) {
      if (out) [out.condition, out.actual] = [i, v];
      return CONDITION_FAILED;
    }
  }
  const pct = def.rollout;
  if (pct >= 100) return ROLLOUT_IN;
  if (pct <= 0) return ROLLOUT_OUT;
  const v = lookup(f.stickiness, ctx, environment);
  if (!v) return MISSING_STICKINESS;
  return bucket(f.prefix, v) <= pct ? ROLLOUT_IN : ROLLOUT_OUT;
}

function matches(t: Targets, ctx: FlagContext, out: Detail | null): boolean {
  let by: Detail['by'];
  let id: string | undefined;
  const user = text(ctx.userId);
  const guild = text(ctx.guildId);
  if (user !== undefined && t.users.has(user)) [by, id] = ['user', user];
  else if (guild !== undefined && t.guilds.has(guild)) [by, id] = ['guild', guild];
  else if (t.roles.size > 0 && Array.isArray(ctx.roles)) {
    const role = ctx.roles.find((r) => t.roles.has(r));
    if (role !== undefined) [by, id] = ['role', role];
  }
  if (!by) return false;
  if (out) [out.by, out.id] = [by, id];
  return true;
}
