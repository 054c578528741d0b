import { isUserError } from '../base/errors.js';
import type { Registry } from './registry.js';
import { parseValue, resolveKey } from './validate.js';

/** The prefix of a variable that overrides a stored setting for one process. */
export const OVERRIDE_PREFIX = 'CONFIG_OVERRIDE_';

/** A setting forced by a process's environment: it wins over every stored value, in that process only. */
export interface EnvOverride {
  key: string;
  /** The variable it came from, e.g. CONFIG_OVERRIDE_MAX_BATCH_SIZE. */
  variable: string;
  value: unknown;
}

/**
 * The CONFIG_OVERRIDE_<KEY> variables of an environment, each parsed by its key's own rules.
 * Every problem is returned (an unknown key with a suggestion, a bad value with the key's
 * message), one line each naming the variable; a value of a sensitive key is never repeated.
 */
export function parseOverrides(
  source: Record<string, string | undefined>,
  registry: Registry,
): { overrides: EnvOverride[]; problems: string[] } {
  const overrides: EnvOverride[] = [];
  const problems: string[] = [];
  for (const [variable, raw] of Object.entries(source)) {
    if (!variable.startsWith(OVERRIDE_PREFIX)) continue;
    const text = raw?.trim();
    if (!text) continue; // `CONFIG_OVERRIDE_X=` counts as unset, like every other variable
    try {
      const def = resolveKey(registry, variable.slice(OVERRIDE_PREFIX.length));
      overrides.push({ key: def.key, variable, value: parseValue(def, text).value });
    } catch (err) {
      if (!isUserError(err)) throw err;
      problems.push(`${variable}: ${err.message}`);
    }
  }
  return { overrides: overrides.sort((a, b) => a.key.localeCompare(b.key)), problems };
}
