/**
 * When a change feed reads: every `ms` (polling, or a slower safety net under a change stream),
 * once a second at most while the database is unreachable, and again shortly after a change
 * event whose entry it did not find yet. Its timers never keep the process alive.
 */
export class Pacer {
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly read: () => Promise<void>,
    /** Whether the database answers (else reads are spaced by a second). */
    private readonly available: () => boolean,
  ) {}

  /** Reads every `ms` from now on. */
  every(ms: number): void {
    clearInterval(this.timer);
    let tried = 0;
    this.timer = setInterval(() => {
      if (!this.available() && Date.now() - tried < 1000) return;
      tried = Date.now();
      void this.read();
    }, ms);
    this.timer.unref();
  }

  /** Reads once in `ms` (an entry still being published). */
  in(ms: number): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.read(), ms);
    this.retry.unref();
  }

  /**
   * Reads now, and again every 100 ms up to `tries` times while `moved` says the read found
   * nothing new: a change event can arrive before its entry can be read (a change stream is faster).
   */
  soon(moved: () => boolean, tries: number): void {
    void this.read().then(() => {
      if (moved() || tries <= 1) return;
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.soon(moved, tries - 1), 100);
      this.retry.unref();
    });
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.retry);
  }
}
