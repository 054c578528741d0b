/**
 * Counts events per key in fixed one-minute windows, in memory: enough for a per-process request
 * limit (each API process limits on its own, which an operator multiplies by the process count).
 * Written here rather than taken from @fastify/rate-limit because the failed-token limit counts
 * only failures, after authentication has run, which that plugin's request-level hook cannot do.
 */
export class WindowCounter {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
  ) {}

  /** Counts one event for `key`; false once the key is past its limit in this window. */
  hit(key: string, now = Date.now()): boolean {
    this.roll(now);
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= this.limit;
  }

  /** Whether `key` is already past its limit (without counting). */
  blocked(key: string, now = Date.now()): boolean {
    this.roll(now);
    return (this.counts.get(key) ?? 0) >= this.limit;
  }

  /** Seconds until the current window ends (for Retry-After). */
  retryAfter(now = Date.now()): number {
    return Math.max(1, Math.ceil((this.window + this.windowMs - now) / 1000));
  }

  private roll(now: number): void {
    const start = now - (now % this.windowMs);
    if (start !== this.window) {
      this.window = start;
      this.counts = new Map();
    }
  }
}
