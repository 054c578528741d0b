import type { WriteSuccess } from '../../src/config/types.js';
import { UserError } from '../../src/base/errors.js';

/** A write's outcome as a value: committed, or refused with the UserError it threw. */
export type Outcome = ({ ok: true } & WriteSuccess) | { ok: false; error: UserError };

/**
 * Settles a write into an Outcome, so a test can assert on a refusal like on a success. Anything
 * that is not a UserError (a bug) is still thrown.
 */
export async function outcome(write: Promise<WriteSuccess>): Promise<Outcome> {
  try {
    return { ok: true, ...(await write) };
  } catch (err) {
    if (err instanceof UserError) return { ok: false, error: err };
    throw err;
  }
}

/** Sets a value whatever the key holds now: "already that value" is fine, any other refusal throws. */
export async function ensureValue(write: Promise<WriteSuccess>): Promise<void> {
  try {
    await write;
  } catch (err) {
    if (!(err instanceof UserError && err.code === 'UNCHANGED')) throw err;
  }
}
