/**
 * Why a flag is on or off: the reason names `explain` and the counts use, and the small integer
 * codes evaluation returns for them.
 */

export const REASONS = [
  'unknown_flag',
  'archived',
  'disabled',
  'environment',
  'before_start',
  'after_end',
  'excluded',
  'prerequisite_cycle',
  'prerequisite_off',
  'included',
  'condition_failed',
  'missing_stickiness',
  'rollout_in',
  'rollout_out',
  'error',
] as const;
export type Reason = (typeof REASONS)[number];

// Reason codes are indexes into REASONS: evaluation returns a small integer, counting is `counts[code]++`.
export const UNKNOWN = 0,
  ARCHIVED = 1,
  DISABLED = 2,
  ENVIRONMENT = 3,
  BEFORE_START = 4,
  AFTER_END = 5,
  EXCLUDED = 6,
  CYCLE = 7,
  PREREQUISITE_OFF = 8,
  INCLUDED = 9,
  CONDITION_FAILED = 10,
  MISSING_STICKINESS = 11,
  ROLLOUT_IN = 12,
  ROLLOUT_OUT = 13,
  ERROR = 14;

export const isOn = (code: number): boolean => code === INCLUDED || code === ROLLOUT_IN;
