import { Backoff } from './backoff.js';
import { ConfigClientFatalError, errorReason } from './http.js';
import type { FlagErrorResult } from '../wire.js';

/** Errors are sent at most this often: a burst of failures is one request per flag. */
export const ERROR_BATCH_MS = 1000;
/** Retries of a failed batch back off up to this. */
const MAX_RETRY_MS = 30_000;

export interface FlagErrorBatchOptions {
  send(name: string, count: number, signal: AbortSignal): Promise<FlagErrorResult>;
  /** A flag was switched off by the errors reported (the stream brings the new version too). */
  killed(result: FlagErrorResult): void;
  warn(message: string): void;
}

/**
 * Errors an application attributes to a flag (`reportError`), counted in memory and sent as one
 * `POST /v1/flags/:name/errors` per flag at most about once a second. A batch that fails is kept
 * and sent again with the next one (backing off while the API is away); a refusal (an unknown
 * flag, a token that may not report) is dropped with a warning, as retrying cannot fix it.
 */
export class FlagErrorBatch {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private failing = false;
  private stopped = false;
  private readonly backoff = new Backoff(ERROR_BATCH_MS, MAX_RETRY_MS, () => 1);
  private readonly abort = new AbortController();

  constructor(private readonly options: FlagErrorBatchOptions) {}

  /** Counts `count` errors of `name`; never throws (a wrong argument is a warning). */
  add(name: string, count: number): void {
    if (this.stopped) return;
    if (typeof name !== 'string' || !name) return this.options.warn('reportError needs a flag name');
    if (!Number.isSafeInteger(count) || count < 1)
      return this.options.warn(
        `reportError(${name}, ${String(count)}): the count must be a whole number above 0`,
      );
    this.pending.set(name, (this.pending.get(name) ?? 0) + count);
    this.schedule(ERROR_BATCH_MS);
  }

  /** Stops the timer, then sends what is pending once (bounded by the request timeout). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
    if (this.pending.size) await this.flush();
    this.abort.abort();
  }

  private schedule(ms: number): void {
    if (this.timer || this.inFlight || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.flush().finally(() => {
        this.inFlight = undefined;
        if (this.pending.size) this.schedule(this.failing ? this.backoff.next() : ERROR_BATCH_MS);
      });
    }, ms);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    const failures: string[] = [];
    await Promise.all(
      [...batch].map(async ([name, count]) => {
        try {
          const result = await this.options.send(name, count, this.abort.signal);
          if (result.killed) this.options.killed(result);
        } catch (err) {
          if (err instanceof ConfigClientFatalError) {
            this.options.warn(`Dropped ${count} error report(s) of flag ${name}: ${errorReason(err)}`);
            return;
          }
          // Kept for the next batch, with whatever was counted meanwhile.
          this.pending.set(name, (this.pending.get(name) ?? 0) + count);
          failures.push(errorReason(err));
        }
      }),
    );
    if (!failures.length) {
      this.failing = false;
      this.backoff.reset();
      return;
    }
    // One warning per run of failures: the stream already reports the API being away.
    if (!this.failing)
      this.options.warn(`Could not report flag errors (kept for the next batch): ${failures[0]}`);
    this.failing = true;
  }
}
