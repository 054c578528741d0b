/**
 * Time as the scheduler reads it. The system clock in production; a test passes its own to run
 * days of schedules (daylight-saving days included) without waiting for them.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once, `ms` from now; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
