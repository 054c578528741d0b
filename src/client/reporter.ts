import { networkReason } from './http.js';

export interface ReportBody {
  id: string;
  name: string;
  host: string;
  pid: number;
  version?: string;
  applied: number;
}

export interface ReporterOptions {
  intervalMs: number;
  /** The body to send now, or undefined while nothing has been applied yet. */
  body(): ReportBody | undefined;
  send(body: ReportBody, signal: AbortSignal): Promise<void>;
  warn(message: string): void;
}

/**
 * Tells the API which change this process has applied: at once after applying one, and every
 * `intervalMs` otherwise. A burst of changes makes at most one request in flight plus one after
 * it (with the latest position), and an immediate report pushes the periodic one back.
 */
export class Reporter {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private again = false;
  private failing = false;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(private readonly options: ReporterOptions) {}

  start(): void {
    this.plan();
  }

  /** Reports now (or right after the report in flight). */
  now(): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.inFlight = this.send().finally(() => {
      this.inFlight = undefined;
      if (this.again) {
        this.again = false;
        this.now();
      } else this.plan();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.inFlight;
  }

  private plan(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.now(), this.options.intervalMs);
    this.timer.unref();
  }

  private async send(): Promise<void> {
    const body = this.options.body();
    if (!body) return;
    try {
      await this.options.send(body, this.abort.signal);
      this.failing = false;
    } catch (err) {
      if (this.stopped) return;
      // One warning per run of failures: the API being down is already reported by the stream.
      if (!this.failing) this.options.warn(`Could not report the applied position: ${reason(err)}`);
      this.failing = true;
    }
  }
}

function reason(err: unknown): string {
  return err instanceof Error && err.name.startsWith('ConfigClient') ? err.message : networkReason(err);
}
