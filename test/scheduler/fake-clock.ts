import type { Clock } from '../../src/jobs/clock.js';

/**
 * A clock that moves only when told: `runTo` walks to an instant, firing each timer due on the
 * way at its own time, in order, and lets `settle` (what the timer started) finish before the
 * next one. Days of schedules run in milliseconds of real time.
 */
export class FakeClock implements Clock {
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  constructor(private time: number) {}

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.time + ms, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers armed and not yet fired or cancelled. */
  get pending(): number {
    return this.timers.length;
  }

  async runTo(until: number, settle: () => Promise<void>): Promise<void> {
    for (;;) {
      const [due] = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq);
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
      await settle();
    }
    this.time = until;
  }
}
