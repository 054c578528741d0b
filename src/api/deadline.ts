import { errorDetail, logger } from '../base/logger.js';
import { ApiError } from './errors.js';

/**
 * A second past DB_TIMEOUT_MS: a database that refuses connections fails a write at DB_TIMEOUT_MS
 * itself (the driver's own timeout), with the accurate "nothing was changed"; only a database that
 * does not answer at all (paused, cut off) reaches the deadline.
 */
export const DEADLINE_MARGIN_MS = 1000;

/**
 * Answers within `ms` (plus DEADLINE_MARGIN_MS) whatever the database does: a write still waiting
 * then (a paused server the driver has not given up on yet) is answered 503, and goes on. Its
 * outcome is logged when it settles: if the database takes it later, it is a version like any
 * other (audited, announced), which the 503 says, so the client checks before sending it again.
 */
export async function withinDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(
        new ApiError(
          503,
          'UNAVAILABLE',
          `The database did not answer within ${ms} ms (DB_TIMEOUT_MS), so ${what} is not confirmed. If the database takes it later it applies as a new version: read the key's history before sending it again.`,
        ),
      );
    }, ms + DEADLINE_MARGIN_MS);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    if (late)
      work.then(
        () => logger.warn(`${what}, answered 503 after ${ms} ms, was applied when the database answered`),
        (err: unknown) =>
          logger.info(`${what}, answered 503 after ${ms} ms, did not apply`, errorDetail(err)),
      );
  }
}
