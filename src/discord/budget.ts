import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How long a database read may hold up an interaction's first response (a reply from memory, a
 * form, autocomplete choices): well inside Discord's 3 s, whatever the database does. Anything
 * that needs the database for longer defers first.
 */
export const FIRST_RESPONSE_READ_MS = 1000;

/**
 * `read`'s result, or `fallback` when it has not answered within `ms`. A failure within the time
 * is thrown; a late one is left to whoever else awaits `read` (the read goes on by itself).
 */
export function within<T>(read: Promise<T>, fallback: T, ms = FIRST_RESPONSE_READ_MS): Promise<T> {
  return Promise.race([read, sleep(ms, fallback, { ref: false })]);
}
