/**
 * Reconnect delays with "full jitter" (a random delay between 0 and the capped exponential), so
 * that many clients cut off by the same outage do not all come back at the same instant.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call widens the window up to maxMs. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(this.random() * ceiling);
  }

  /** After a healthy connection, the next outage starts from the smallest window again. */
  reset(): void {
    this.attempt = 0;
  }
}
