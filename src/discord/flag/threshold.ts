import { duration } from '../../config/kinds.js';
import { UserError } from '../../base/errors.js';
import type { FlagDefinition } from '@config-bot/client/flags';
import { preview } from '../../base/text.js';
import type { Edit } from './edits.js';

/** The window errors are counted over: 1 s to 24 h, as the model allows. */
export const WINDOW = { min: 1000, max: 86_400_000 } as const;
const anyDuration = duration({ min: 0, max: Number.MAX_SAFE_INTEGER });

/** `30s`, `5m`, `1h` to milliseconds; refuses what is not a duration, and what is out of range. */
export function parseWindow(text: string): number {
  const t = text.trim();
  const parsed = anyDuration.schema.safeParse(t);
  if (!parsed.success)
    throw new UserError(
      'INVALID_VALUE',
      `window: "${preview(t)}" is not a duration. Use a number and a unit: 30s, 5m, 1h.`,
    );
  if (parsed.data < WINDOW.min || parsed.data > WINDOW.max)
    throw new UserError(
      'INVALID_VALUE',
      `window: ${preview(t)} is out of range; errors are counted over 1s to 24h.`,
    );
  return parsed.data;
}

/**
 * `/flag threshold`: the automatic kill switches the flag off when `errors` are reported within
 * `windowMs`. A flag without a threshold needs both; one that has one may change either.
 * `null` removes it (the flag is then never switched off automatically).
 */
export function editThreshold(
  f: FlagDefinition,
  change: { errors?: number | undefined; windowMs?: number | undefined } | null,
): Edit {
  const { errorThreshold: old, ...rest } = f;
  if (change === null) {
    if (!old) throw new UserError('UNCHANGED', `${f.name} has no error threshold. Nothing was changed.`);
    return {
      flag: rest,
      warnings: ['It is no longer switched off automatically, however many errors are reported.'],
    };
  }
  const errors = change.errors ?? old?.errors;
  const windowMs = change.windowMs ?? old?.windowMs;
  if (errors === undefined || windowMs === undefined)
    throw new UserError(
      'INVALID_VALUE',
      `${f.name} has no error threshold yet: give both errors and window (errors:10 window:5m), or clear:true to remove one.`,
    );
  const warnings =
    f.enabled && f.environments.length
      ? []
      : [
          'The flag is off now: the threshold applies once it is on (only errors reported after a change count).',
        ];
  return { flag: { ...rest, errorThreshold: { errors, windowMs } }, warnings };
}
