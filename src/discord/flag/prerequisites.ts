import { UserError } from '../../base/errors.js';
import type { FlagDefinition } from '@config-bot/client/flags';
import type { FlagStore } from '../../flags/flags.js';
import type { Edit } from './edits.js';

/**
 * Adds or removes a prerequisite (a flag that must be on for this one to be on). Adding refuses
 * an unknown flag (with the nearest names) and a cycle, which would leave every flag in it off.
 */
export function editPrerequisites(
  f: FlagDefinition,
  change: { add: boolean; name: string },
  flags: FlagStore,
): Edit {
  if (!change.add) {
    if (!f.prerequisites.includes(change.name))
      throw new UserError(
        'UNCHANGED',
        `${f.name} does not require ${change.name}${f.prerequisites.length ? ` (it requires ${f.prerequisites.join(', ')})` : ''}. Nothing was changed.`,
      );
    return { flag: { ...f, prerequisites: f.prerequisites.filter((p) => p !== change.name) }, warnings: [] };
  }
  const required = flags.require(change.name).flag;
  if (f.prerequisites.includes(required.name))
    throw new UserError('UNCHANGED', `${f.name} already requires ${required.name}. Nothing was changed.`);
  const cycle = pathBack(required.name, f.name, flags);
  if (cycle || required.name === f.name)
    throw new UserError(
      'INVALID_VALUE',
      `${f.name} cannot require ${required.name}: ${[f.name, ...(cycle ?? [required.name])].join(' → ')} would be a cycle, and every flag in it would be off.`,
    );
  const warnings: string[] = [];
  if (required.archived)
    warnings.push(`${required.name} is archived, so it is off everywhere: ${f.name} will be off too.`);
  else if (!required.enabled)
    warnings.push(`${required.name} is off (kill switch): ${f.name} is off until it is on.`);
  return { flag: { ...f, prerequisites: [...f.prerequisites, required.name] }, warnings };
}

/** A chain of prerequisites from `from` to `to` (both included), or undefined when there is none. */
function pathBack(
  from: string,
  to: string,
  flags: FlagStore,
  seen = new Set<string>(),
): string[] | undefined {
  if (from === to) return [to];
  if (seen.has(from)) return undefined;
  seen.add(from);
  for (const next of flags.get(from)?.flag.prerequisites ?? []) {
    const rest = pathBack(next, to, flags, seen);
    if (rest) return [from, ...rest];
  }
  return undefined;
}
