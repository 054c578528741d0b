import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChangeFeed } from '../changes/feed.js';
import type { ConfigService } from '../config/service.js';
import type { FlagStore } from '../flags/flags.js';
import type { Scheduler } from '../jobs/scheduler.js';
import { addProcessMetrics } from './process-metrics.js';

export interface MetricsSources {
  config: ConfigService;
  feed: ChangeFeed;
  scheduler?: Scheduler | undefined;
  flags?: FlagStore | undefined;
  /** What this process is (bot, api), the `role` label of the process and Node.js metrics. */
  role: string;
}

/** The `flag` label of evaluations of names that are no flag: one series, whatever applications typed. */
export const UNKNOWN_FLAG_LABEL = '*';

/**
 * What /metrics exposes, in a registry of its own (not prom-client's global one, so several
 * servers can live in one process). Counters the API moves itself (reads, writes, streams),
 * counters and gauges read from the service, feed and scheduler when scraped, and the process's
 * own metrics.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly reads: Counter<'key'>;
  private readonly writes: Counter<'key' | 'action'>;
  readonly streams: Gauge;
  private readonly lag: Histogram;
  private readonly errorReports: Counter<'flag'>;
  private readonly errorsReported: Counter<'flag'>;
  private readonly detach: () => void;

  constructor(src: MetricsSources) {
    const registers = [this.registry];
    this.reads = new Counter({
      name: 'config_api_reads_total',
      help: 'Reads of a key through the API (snapshots count as config_api_snapshots_total)',
      labelNames: ['key'],
      registers,
    });
    const snapshots = new Counter({
      name: 'config_api_snapshots_total',
      help: 'Snapshots served',
      registers,
    });
    this.snapshot = () => snapshots.inc();
    this.writes = new Counter({
      name: 'config_api_writes_total',
      help: 'Changes committed through the API',
      labelNames: ['key', 'action'],
      registers,
    });
    this.streams = new Gauge({
      name: 'config_sse_clients',
      help: 'Event streams open on this process',
      registers,
    });
    this.lag = new Histogram({
      name: 'config_propagation_lag_seconds',
      help: 'From a change committed (anywhere) to this process applying it',
      buckets: [0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
      registers,
    });
    const changes = new Counter({
      name: 'config_changes_total',
      help: 'Committed changes this process applied, by key and action',
      labelNames: ['key', 'action'],
      registers,
    });
    this.errorReports = new Counter({
      name: 'flag_error_reports_total',
      help: 'Error reports received by this process, by flag',
      labelNames: ['flag'],
      registers,
    });
    this.errorsReported = new Counter({
      name: 'flag_errors_reported_total',
      help: 'Errors those reports counted, by flag',
      labelNames: ['flag'],
      registers,
    });
    const detachFlags = src.flags ? this.flagMetrics(src.flags) : () => {};
    let seen = src.feed.position;
    const detachFeed = src.feed.onAdvance((position) => {
      const from = seen;
      seen = position;
      void src.feed.since(from).then((page) => {
        const now = Date.now();
        for (const c of page?.changes ?? []) {
          changes.inc({ key: c.key, action: c.action });
          this.lag.observe(Math.max(0, now - c.at.getTime()) / 1000);
        }
      });
    });
    this.detach = () => {
      detachFeed();
      detachFlags();
    };
    const { config } = src;
    // Counts kept by their source since this process started, read when scraped (one source of truth).
    sourced(registers, 'config_cache_hits_total', 'Reads served from this process’s memory', [], () => [
      [{}, config.stats().cache.hits],
    ]);
    sourced(
      registers,
      'config_cache_misses_total',
      'Reads that found no value in memory (served the default)',
      [],
      () => [[{}, config.stats().cache.misses]],
    );
    sourced(
      registers,
      'config_writes_refused_total',
      'Refused write attempts, by action and reason',
      ['action', 'reason'],
      () =>
        [...config.refusals].map(([what, n]) => {
          const [action = '', reason = ''] = what.split(':');
          return [{ action, reason }, n];
        }),
    );
    new Gauge({
      name: 'config_database_up',
      help: '1 when the database answers, 0 while this process serves its last-known values',
      registers,
      collect() {
        this.set(config.stats().database === 'connected' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'config_undecryptable_values',
      help: 'Stored secrets this process cannot decrypt (it lacks their key; served masked), by key and scope',
      labelNames: ['key', 'scope'],
      registers,
      collect() {
        this.reset();
        for (const { slot } of config.stats().undecryptable) {
          const [key = slot, scope = 'global'] = slot.split('|');
          this.set({ key, scope }, 1);
        }
      },
    });
    new Gauge({
      name: 'config_change_position',
      help: 'The change-log position this process has applied',
      registers,
      collect() {
        this.set(src.feed.position);
      },
    });
    sourced(
      registers,
      'config_job_runs_total',
      'Job runs by this process, by job and outcome',
      ['job', 'outcome'],
      () =>
        (src.scheduler?.status() ?? []).flatMap((j) => [
          [{ job: j.name, outcome: 'completed' }, j.completed],
          [{ job: j.name, outcome: 'failed' }, j.failed],
        ]),
    );
    addProcessMetrics(this.registry, src.role);
  }

  /** Counts a snapshot served. */
  readonly snapshot: () => void;

  read(key: string): void {
    this.reads.inc({ key });
  }

  /** The keys this API served most since it started, with their reads, most first (from the counter). */
  async mostRead(limit = 10): Promise<{ key: string; reads: number }[]> {
    const { values } = await this.reads.get();
    return values
      .map((v) => ({ key: String(v.labels.key), reads: v.value }))
      .sort((a, b) => b.reads - a.reads || a.key.localeCompare(b.key))
      .slice(0, limit);
  }

  write(key: string, action: string): void {
    this.writes.inc({ key, action });
  }

  /** Counts an error report of `count` errors. */
  errorReport(flag: string, count: number): void {
    this.errorReports.inc({ flag });
    this.errorsReported.inc({ flag }, count);
  }

  /** Evaluations read from the flags' counts when scraped, and automatic kills as they are applied. */
  private flagMetrics(flags: FlagStore): () => void {
    const registers = [this.registry];
    new Counter({
      name: 'flag_evaluations_total',
      help: `Flag evaluations in this process, by flag and reason (names that are no flag: flag="${UNKNOWN_FLAG_LABEL}")`,
      labelNames: ['flag', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const [name, byReason] of Object.entries(flags.set.counts())) {
          // A name an application made up is not a series of its own: its label is bounded by the flags.
          const flag = flags.get(name) ? name : UNKNOWN_FLAG_LABEL;
          for (const [reason, n] of Object.entries(byReason)) if (n) this.inc({ flag, reason }, n);
        }
      },
    });
    const kills = new Counter({
      name: 'flag_kills_total',
      help: 'Automatic kills (a flag switched off by its error threshold) this process applied, by flag',
      labelNames: ['flag'],
      registers,
    });
    return flags.subscribe((change) => {
      if (change.action === 'kill') kills.inc({ flag: change.name });
    });
  }

  close(): void {
    this.detach();
  }
}

/** A counter whose values are counts kept by their source since start, read when scraped. */
function sourced<L extends string>(
  registers: Registry[],
  name: string,
  help: string,
  labelNames: L[],
  read: () => [Partial<Record<L, string>>, number][],
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const [labels, n] of read()) this.inc(labels, n);
    },
  });
}
