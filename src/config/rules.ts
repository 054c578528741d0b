import { UserError } from '../base/errors.js';
import { present } from './present.js';
import type { Registry } from './registry.js';

/** The values a rule is checked against: every key it names, as they would be after the write. */
export type RuleValues = Readonly<Record<string, unknown>>;

/**
 * A rule over several keys (a depends-on or conflicts-with relation, or any predicate over their
 * values). `check` returns what is wrong, in words an admin can act on, or undefined. The
 * refusal names every key of the rule with the value it would have.
 */
export interface CrossKeyRule {
  name: string;
  keys: readonly string[];
  check(values: RuleValues): string | undefined;
}

const minutesOf = (hhmm: unknown) =>
  typeof hhmm === 'string' && /^\d\d:\d\d$/.test(hhmm)
    ? Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))
    : 0;

/**
 * The rules of the shipped keys. To add one: give it a name, the keys it reads and a check that
 * says what is wrong; every write of one of those keys (set, rollback, reset) is then refused
 * when the values it would leave break the rule.
 */
export const rules: readonly CrossKeyRule[] = [
  {
    name: 'buffered export on the same day',
    keys: ['DAILY_EXPORT_TIME', 'IMMEDIATE_EXPORT_BUFFER'],
    check: (v) => {
      const end = minutesOf(v.DAILY_EXPORT_TIME) + Number(v.IMMEDIATE_EXPORT_BUFFER ?? 0);
      return end >= 24 * 60
        ? 'the export time plus the buffer must end before midnight, or a buffered export would run on the next day and land in the wrong export'
        : undefined;
    },
  },
];

/** The rules whose keys all exist in `registry` (a test or team registry may lack some). */
export function rulesFor(registry: Registry, from: readonly CrossKeyRule[] = rules): CrossKeyRule[] {
  return from.filter((r) => r.keys.every((k) => registry.has(k)));
}

/**
 * Refuses (RULE_VIOLATION) when `key` taking `next` would break a rule; the other keys keep the
 * values `current` gives. The message names every key of the broken rule and its value.
 */
export function checkRules(
  registry: Registry,
  active: readonly CrossKeyRule[],
  key: string,
  next: unknown,
  current: (key: string) => unknown,
  /** The scope checked, named in the refusal when it is not global. */
  where?: string,
): void {
  for (const rule of active) {
    if (!rule.keys.includes(key)) continue;
    const values = Object.fromEntries(rule.keys.map((k) => [k, k === key ? next : current(k)]));
    const wrong = rule.check(values);
    if (!wrong) continue;
    const shown = rule.keys
      .map((k) => {
        const def = registry.get(k);
        return `${k} ${def ? present(def, values[k]) : String(values[k])}`;
      })
      .join(' with ');
    const at = where && where !== 'global' ? ` (at ${where})` : '';
    throw new UserError('RULE_VIOLATION', `${shown}${at}: ${wrong}. Nothing was changed.`, {
      key,
      rule: rule.name,
    });
  }
}
