import { errorDetail, logger } from '../base/logger.js';
import type { FlagUsageRecords } from '../storage/flag-usage.js';
import { REASONS, type FlagCountsSnapshot, type Reason } from '@config-bot/client/flags';

const HOUR_MS = 3600_000;
/**
 * Hourly buckets are kept this long: the dashboards show 7 days; "last 24 h" reads the last 24
 * of them plus the current one.
 */
const KEEP_MS = 8 * 24 * HOUR_MS;

export type ReasonCounts = Partial<Record<Reason, number>>;

/**
 * Evaluation counts of every process and application, per flag and reason, in hourly buckets
 * shared through the database (`/flag view` shows the last 24 h, `/flag list` flags never
 * evaluated). Processes add what they counted since their last report (deltas), so nothing is
 * counted twice and a restart loses at most one interval.
 */
export class FlagUsage {
  private lastTrim = 0;

  constructor(private readonly records: FlagUsageRecords) {}

  ensureIndexes(): Promise<void> {
    return this.records.ensureIndexes();
  }

  /** Adds counts (deltas since the reporter's last report), in the hour of `at`. */
  async add(counts: FlagCountsSnapshot, at = new Date()): Promise<void> {
    const hour = new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
    const rows: { name: string; counts: Record<string, number> }[] = [];
    for (const [name, byReason] of Object.entries(counts)) {
      const kept: Record<string, number> = {};
      for (const [reason, n] of Object.entries(byReason))
        if ((REASONS as readonly string[]).includes(reason) && Number.isSafeInteger(n) && n > 0)
          kept[reason] = n;
      if (Object.keys(kept).length) rows.push({ name, counts: kept });
    }
    if (!rows.length) return;
    await this.records.add(hour, at, rows);
    if (at.getTime() - this.lastTrim > HOUR_MS) {
      this.lastTrim = at.getTime();
      await this.records.deleteBefore(new Date(at.getTime() - KEEP_MS));
    }
  }

  /** Evaluations per reason over the last 24 hours, by name (unknown names included). */
  async last24h(now = new Date()): Promise<Map<string, ReasonCounts>> {
    const since = new Date(Math.floor((now.getTime() - 24 * HOUR_MS) / HOUR_MS) * HOUR_MS + HOUR_MS);
    const out = new Map<string, ReasonCounts>();
    for (const d of await this.records.since(since)) {
      const row = out.get(d.name) ?? {};
      for (const [reason, n] of Object.entries(d.counts) as [Reason, number][])
        row[reason] = (row[reason] ?? 0) + n;
      out.set(d.name, row);
    }
    return out;
  }

  /**
   * Evaluations of every flag per reason in each hour from the hour of `since` on, oldest first
   * (hours with none are absent).
   */
  async byHour(since: Date): Promise<{ hour: Date; counts: ReasonCounts }[]> {
    const from = new Date(Math.floor(since.getTime() / HOUR_MS) * HOUR_MS);
    const out = new Map<number, ReasonCounts>();
    for (const d of await this.records.since(from)) {
      const row = out.get(d.hour.getTime()) ?? {};
      for (const [reason, n] of Object.entries(d.counts) as [Reason, number][])
        row[reason] = (row[reason] ?? 0) + n;
      out.set(d.hour.getTime(), row);
    }
    return [...out].sort(([a], [b]) => a - b).map(([t, counts]) => ({ hour: new Date(t), counts }));
  }

  /** When each name was last evaluated anywhere (names never evaluated are absent). */
  lastEvaluated(): Promise<Map<string, Date>> {
    return this.records.lastEvaluated();
  }
}

/**
 * Turns a process's running counts into deltas for FlagUsage.add: each call returns what was
 * counted since the previous call.
 */
export class CountsDelta {
  private last: FlagCountsSnapshot = {};

  constructor(private readonly counts: () => FlagCountsSnapshot) {}

  take(): FlagCountsSnapshot {
    const now = this.counts();
    const out: FlagCountsSnapshot = {};
    for (const [name, row] of Object.entries(now)) {
      const before = this.last[name] ?? {};
      const diff: ReasonCounts = {};
      for (const [reason, n] of Object.entries(row) as [Reason, number][]) {
        const d = n - (before[reason] ?? 0);
        if (d > 0) diff[reason] = d;
      }
      if (Object.keys(diff).length) out[name] = diff;
    }
    this.last = now;
    return out;
  }

  /** Puts a delta back (its report failed), so the next take includes it again. */
  giveBack(delta: FlagCountsSnapshot): void {
    for (const [name, row] of Object.entries(delta)) {
      const before = { ...(this.last[name] ?? {}) };
      for (const [reason, n] of Object.entries(row) as [Reason, number][])
        before[reason] = (before[reason] ?? 0) - n;
      this.last[name] = before;
    }
  }
}

/**
 * Sends this process's evaluation counts to FlagUsage every `intervalMs` and at stop. A failed
 * write keeps its counts for the next one. Never throws.
 */
export class UsageFlusher {
  private readonly delta: CountsDelta;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly usage: FlagUsage,
    counts: () => FlagCountsSnapshot,
    private readonly intervalMs: number,
  ) {
    this.delta = new CountsDelta(counts);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  async flush(): Promise<void> {
    const d = this.delta.take();
    if (!Object.keys(d).length) return;
    try {
      await this.usage.add(d);
    } catch (err) {
      this.delta.giveBack(d);
      logger.debug('Could not record flag evaluation counts; they go with the next write', errorDetail(err));
    }
  }
}
