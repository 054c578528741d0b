import type { LiveValues } from './live-values.js';
import type { Registry } from './registry.js';
import { inheritsFrom, type Resolution } from './resolution.js';
import { checkRules, type CrossKeyRule } from './rules.js';
import { slotId, type Scope } from './scopes.js';
import type { RegisteredKey } from './registry.js';

/**
 * The cross-key rules, checked against this process's values: by every write and by every
 * change request (which is checked as its write would be).
 */
export class RuleCheck {
  constructor(
    private readonly parts: {
      registry: Registry;
      rules: readonly CrossKeyRule[];
      values: LiveValues;
      resolution: Resolution;
      environment: string;
    },
  ) {}

  /**
   * Refuses a value of `def` at `scope` that would break a rule, in that scope and in every more
   * specific one that inherits it and holds an override of another key of the rule.
   */
  check(def: RegisteredKey, scope: Scope, next: unknown): void {
    const { registry, rules, values, resolution, environment } = this.parts;
    const affected = new Set<Scope>([scope]);
    for (const rule of rules) {
      if (!rule.keys.includes(def.key)) continue;
      for (const other of rule.keys)
        for (const o of values.overridesOf(other))
          if (inheritsFrom(o.scope, scope, environment) && !values.held(slotId(def.key, o.scope)))
            affected.add(o.scope);
    }
    for (const at of affected) checkRules(registry, rules, def.key, next, (k) => resolution.at(k, at), at);
  }
}
