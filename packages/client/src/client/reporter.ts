import type { InstanceReport } from '../wire.js';
import { errorReason } from './http.js';

/** What this client reports: always who it is, as well as what it applied. */
export interface ReportBody extends InstanceReport {
  name: string;
  host: string;
  pid: number;
}

export interface ReporterOptions {
  intervalMs: number;
  /** The body to send now, or undefined while nothing has been applied yet. */
  body(): ReportBody | undefined;
  send(body: ReportBody, signal: AbortSignal): Promise<void>;
  /** A report that failed: what it carried (evaluation counts) goes with the next one. */
  unsent?(body: ReportBody, err: unknown): void;
  warn(message: string): void;
}

/**
 * The least time between two immediate reports. A client applying many changes would otherwise
 * send one report per round trip; with this gap it sends at most four a second, the last one
 * with the latest position, and a change after a quiet spell is still reported at once.
 */
export const REPORT_GAP_MS = 250;

/**
 * Tells the API which change this process has applied: at once after applying one (within
 * REPORT_GAP_MS of the previous report), and every `intervalMs` otherwise. Reports never overlap,
 * and an immediate report pushes the periodic one back.
 */
export class Reporter {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  /** A report is asked for while one is in flight or the gap runs: it goes when they end. */
  private due = false;
  private lastSent = Number.NEGATIVE_INFINITY;
  private failing = false;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(private readonly options: ReporterOptions) {}

  start(): void {
    this.plan();
  }

  /** Reports now, or as soon as the report in flight and the gap after the previous one allow. */
  now(): void {
    if (this.stopped) return;
    if (this.inFlight || this.due) {
      this.due = true;
      return;
    }
    const wait = this.lastSent + REPORT_GAP_MS - Date.now();
    if (wait <= 0) return this.fire();
    this.due = true;
    this.schedule(wait);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.inFlight;
  }

  /** Sends one report; the next is planned when it ends (the one asked for meanwhile, or periodic). */
  private fire(): void {
    clearTimeout(this.timer);
    this.due = false;
    this.inFlight = this.send().finally(() => {
      this.inFlight = undefined;
      if (!this.due) return this.plan();
      this.due = false;
      this.now();
    });
  }

  /** The periodic report, `intervalMs` after the last one. */
  private plan(): void {
    this.schedule(this.options.intervalMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), ms);
    this.timer.unref();
  }

  private async send(): Promise<void> {
    const body = this.options.body();
    if (!body) return;
    this.lastSent = Date.now();
    try {
      await this.options.send(body, this.abort.signal);
      this.failing = false;
    } catch (err) {
      this.options.unsent?.(body, err);
      if (this.stopped) return;
      // One warning per run of failures: the API being down is already reported by the stream.
      if (!this.failing) this.options.warn(`Could not report the applied position: ${errorReason(err)}`);
      this.failing = true;
    }
  }
}
