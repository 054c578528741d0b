import { isUnavailableError } from '../storage/connection.js';
import { isUserError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import { FIRST_RESPONSE_READ_MS, within } from './budget.js';

/** Lists kept (token names, snapshot names, pending requests, versions of a key at a scope). */
const MAX_LISTS = 500;

/**
 * What autocomplete offers from the database, kept in memory: Discord shows choices only if they
 * come within 3 s, and the list read a moment ago beats none. Each list is read again when asked
 * for; the read gets FIRST_RESPONSE_READ_MS, and past that (or at once while the database is known
 * to be down) the last list read is offered, empty if there is none, while the read goes on to
 * fill the memory for the next keystroke. Never throws.
 */
export class Suggestions {
  private readonly known = new Map<string, unknown>();
  private readonly reading = new Map<string, Promise<unknown>>();

  constructor(
    private readonly health: { readonly available: boolean },
    private readonly waitMs = FIRST_RESPONSE_READ_MS,
  ) {}

  /** The list named `name`: read now by `read` if that is quick, else the last one read. */
  async get<T>(name: string, read: () => Promise<T>, none: T): Promise<T> {
    const last = this.known.has(name) ? (this.known.get(name) as T) : none;
    const fresh = this.refresh(name, read);
    if (!this.health.available) return last;
    const got = await within(fresh, undefined, this.waitMs);
    return got === undefined ? last : got;
  }

  /** One read per list at a time; its result is remembered, a failure keeps the last list. */
  private refresh<T>(name: string, read: () => Promise<T>): Promise<T | undefined> {
    const running = this.reading.get(name) as Promise<T | undefined> | undefined;
    if (running) return running;
    const started = Promise.resolve()
      .then(read)
      .then(
        (value) => {
          this.remember(name, value);
          return value;
        },
        (err: unknown) => {
          // The last list stays offered; a refusal or an unreachable database is not news.
          if (!isUserError(err) && !isUnavailableError(err))
            logger.warn(`Autocomplete could not read ${name}`, errorDetail(err));
          return undefined;
        },
      );
    const tracked = started.finally(() => this.reading.delete(name));
    this.reading.set(name, tracked);
    return tracked;
  }

  private remember(name: string, value: unknown): void {
    this.known.delete(name);
    this.known.set(name, value);
    if (this.known.size > MAX_LISTS) this.known.delete(this.known.keys().next().value as string);
  }
}
