import { UserError } from '../../base/errors.js';
import type { FlagDefinition } from '@config-bot/client/flags';
import { CLEAR, type Edit } from './edits.js';

/**
 * `/flag stickiness`: what the rollout and the variants hash (`by`: userId, guildId or an
 * attribute), and the group hashed with it (`none`: back to the flag's name). The model checks
 * the names, so a bad one is refused with every other problem of the flag.
 */
export function editStickiness(f: FlagDefinition, by: string | undefined, group: string | undefined): Edit {
  if (by === undefined && group === undefined)
    throw new UserError(
      'INVALID_VALUE',
      `Give by (userId, guildId or an attribute name), group (text, or ${CLEAR} for the flag's name), or both.`,
    );
  const { group: oldGroup, ...rest } = f;
  const nextGroup =
    group === undefined ? oldGroup : group.trim().toLowerCase() === CLEAR ? undefined : group.trim();
  const next = {
    ...rest,
    stickiness: by?.trim() ?? f.stickiness,
    ...(nextGroup !== undefined ? { group: nextGroup } : {}),
  };
  const warnings: string[] = [];
  if (next.stickiness !== f.stickiness || nextGroup !== oldGroup)
    warnings.push(
      'Users are bucketed anew: who is in the rollout and which variant they get change (flags sharing a group and stickiness bucket users alike).',
    );
  if (!['userId', 'guildId'].includes(next.stickiness))
    warnings.push(
      `Applications must pass the attribute ${next.stickiness}; a context without it is outside a rollout below 100% and gets the first variant.`,
    );
  return { flag: next, warnings };
}
