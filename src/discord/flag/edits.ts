import { UserError } from '../../base/errors.js';
import { conditionText, type Condition, type FlagDefinition, type FlagInput } from '@config-bot/client/flags';
import { preview } from '../../base/text.js';

/** A proposed definition and what the admin should know about it. */
export interface Edit {
  flag: FlagInput;
  warnings: string[];
}

/** The environment whose switching off asks for confirmation. */
export const PRODUCTION = 'production';

const unchanged = (message: string) => new UserError('UNCHANGED', `${message} Nothing was changed.`);
const envList = (f: FlagDefinition) => (f.environments.length ? f.environments.join(', ') : 'no environment');

/**
 * `/flag on`: with an environment, adds it to the flag's list; without, turns the kill switch on.
 * A flag on in no environment is on nowhere, so `on` without one also adds this process's
 * environment (`here`) when the list is empty, and says so.
 */
export function turnOn(
  f: FlagDefinition,
  env: string | undefined,
  here: string,
  known: readonly string[],
): Edit {
  const warnings: string[] = [];
  if (env) {
    if (f.environments.includes(env))
      throw unchanged(
        `${f.name} is already on in ${env}.${f.enabled ? '' : ` Its kill switch is off, though: /flag on name:${f.name} turns it on.`}`,
      );
    if (!known.includes(env))
      warnings.push(
        `${env} is not one of this deployment's environments (${known.join(', ')}); only applications that evaluate in ${env} see it.`,
      );
    if (!f.enabled)
      warnings.push(`The kill switch is off, so it stays off everywhere until /flag on name:${f.name}.`);
    return { flag: { ...f, environments: [...f.environments, env] }, warnings };
  }
  if (f.enabled && f.environments.length) throw unchanged(`${f.name} is already on (in ${envList(f)}).`);
  const environments = f.environments.length ? f.environments : [here];
  if (!f.environments.length)
    warnings.push(
      `It was on in no environment, which is on nowhere: this bot's environment, ${here}, was added. /flag off name:${f.name} env:${here} takes it out again.`,
    );
  if (f.rollout === 0)
    warnings.push('The rollout is 0%: it is on only for included users, roles and servers.');
  return { flag: { ...f, enabled: true, environments }, warnings };
}

/** `/flag off`: with an environment, removes it from the list; without, turns the kill switch off. */
export function turnOff(f: FlagDefinition, env: string | undefined): Edit {
  if (env) {
    if (!f.environments.includes(env))
      throw unchanged(`${f.name} is not on in ${env} (on in ${envList(f)}).`);
    const environments = f.environments.filter((e) => e !== env);
    return {
      flag: { ...f, environments },
      warnings: environments.length ? [] : ['It is now on in no environment, which is off everywhere.'],
    };
  }
  if (!f.enabled) throw unchanged(`${f.name} is off already (kill switch).`);
  return { flag: { ...f, enabled: false }, warnings: [] };
}

/** Whether switching off (`env`, or the kill switch) takes the flag away from production. */
export function offInProduction(f: FlagDefinition, env: string | undefined): boolean {
  if (env) return env === PRODUCTION && f.environments.includes(PRODUCTION);
  return f.enabled && f.environments.includes(PRODUCTION);
}

export function setRollout(f: FlagDefinition, percent: number): Edit {
  const warnings =
    !f.enabled || !f.environments.length
      ? [
          `${f.name} is off (${f.enabled ? 'in no environment' : 'kill switch'}): the rollout applies once it is on.`,
        ]
      : [];
  return { flag: { ...f, rollout: percent }, warnings };
}

export type Side = 'include' | 'exclude';
export type TargetKind = 'user' | 'role' | 'guild';
const LISTS = { user: 'users', role: 'roles', guild: 'guilds' } as const;
const NAMES = { user: 'user', role: 'role', guild: 'server' } as const;

/** A Discord id as typed: the id, or a mention of a user (<@id>) or role (<@&id>). */
export function idOf(raw: string, kind: TargetKind): string {
  const m = /^(?:<@[!&]?(\d{15,21})>|(\d{15,21}))$/.exec(raw.trim());
  const id = m?.[1] ?? m?.[2];
  if (!id)
    throw new UserError(
      'INVALID_VALUE',
      `${preview(raw)} is not a Discord ${NAMES[kind]} id (15 to 21 digits${kind === 'guild' ? '' : `, or a mention`}).`,
    );
  return id;
}

/** Adds or removes a user, role or server in the flag's include or exclude list. */
export function editTarget(
  f: FlagDefinition,
  change: { add: boolean; side: Side; kind: TargetKind; id: string },
): Edit {
  const { side, kind, id } = change;
  const list = f[side][LISTS[kind]];
  const what = `${NAMES[kind]} ${id}`;
  const verb = side === 'include' ? 'included' : 'excluded';
  if (change.add && list.includes(id)) throw unchanged(`${what} is already ${verb}.`);
  if (!change.add && !list.includes(id)) throw unchanged(`${what} is not ${verb} by ${f.name}.`);
  const next = change.add ? [...list, id] : list.filter((x) => x !== id);
  const other = side === 'include' ? 'exclude' : 'include';
  const warnings =
    change.add && f[other][LISTS[kind]].includes(id)
      ? [`${what} is also ${other}d; exclusions are checked first, so it is excluded.`]
      : [];
  return { flag: { ...f, [side]: { ...f[side], [LISTS[kind]]: next } }, warnings };
}

export type ConditionChange = { add: Condition } | { remove: number } | { clear: true };

/** `a, b ,c` → [a, b, c]; an empty piece is kept, so validation names it. */
/** Adds a condition (all must hold), removes one by its number (1 is the first), or clears them. */
export function editConditions(f: FlagDefinition, change: ConditionChange): Edit {
  if ('add' in change) return { flag: { ...f, conditions: [...f.conditions, change.add] }, warnings: [] };
  if ('clear' in change) {
    if (!f.conditions.length) throw unchanged(`${f.name} has no conditions.`);
    return { flag: { ...f, conditions: [] }, warnings: [] };
  }
  const n = change.remove;
  if (n < 1 || n > f.conditions.length)
    throw new UserError(
      'INVALID_VALUE',
      f.conditions.length
        ? `${f.name} has ${f.conditions.length} condition${f.conditions.length === 1 ? '' : 's'}: remove 1 to ${f.conditions.length} (/flag view name:${f.name} numbers them).`
        : `${f.name} has no conditions.`,
    );
  return { flag: { ...f, conditions: f.conditions.filter((_, i) => i !== n - 1) }, warnings: [] };
}

/** The text shown for condition `n` (1-based), for replies. */
export const conditionLine = (f: FlagDefinition, n: number): string =>
  `${n}. ${conditionText(f.conditions[n - 1] ?? { attribute: '?', operator: 'in', values: [] })}`;

/** `none` in a schedule option removes that bound. */
export const CLEAR = 'none';

/** Sets or removes the start and end; undefined leaves a bound as it is. */
export function editSchedule(
  f: FlagDefinition,
  start: string | undefined,
  end: string | undefined,
  now: Date,
): Edit {
  if (start === undefined && end === undefined)
    throw new UserError(
      'INVALID_VALUE',
      `Give start, end or both (2026-12-01 10:00 in SCHEDULE_TIMEZONE, or ISO 8601 with a zone like 2026-12-01T09:00:00Z); ${CLEAR} removes one.`,
    );
  const { start: s0, end: e0, ...rest } = f;
  const pick = (given: string | undefined, was: string | undefined) =>
    given === undefined ? was : given.toLowerCase() === CLEAR ? undefined : given.trim();
  const s = pick(start, s0);
  const e = pick(end, e0);
  const warnings: string[] = [];
  if (e && Date.parse(e) <= now.getTime())
    warnings.push('The end is in the past: the flag is off from now on.');
  else if (s && Date.parse(s) > now.getTime()) warnings.push('The start is in the future: off until then.');
  return { flag: { ...rest, ...(s ? { start: s } : {}), ...(e ? { end: e } : {}) }, warnings };
}
