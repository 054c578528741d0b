import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChangeFeed } from '../config/feed.js';
import type { ConfigService } from '../config/service.js';
import type { Scheduler } from '../scheduler/scheduler.js';

export interface MetricsSources {
  config: ConfigService;
  feed: ChangeFeed;
  scheduler?: Scheduler | undefined;
}

/**
 * What /metrics exposes, in a registry of its own (not prom-client's global one, so several
 * servers can live in one process). Counters the API moves itself (reads, writes, streams) plus
 * gauges read from the service, feed and scheduler when scraped.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly reads: Counter<'key'>;
  private readonly writes: Counter<'key' | 'action'>;
  readonly streams: Gauge;
  private readonly lag: Histogram;
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
    let seen = src.feed.position;
    this.detach = src.feed.onAdvance((position) => {
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
    const { config } = src;
    new Gauge({
      name: 'config_cache_hits',
      help: 'Reads served from this process’s memory since start',
      registers,
      collect() {
        this.set(config.stats().cache.hits);
      },
    });
    new Gauge({
      name: 'config_cache_misses',
      help: 'Reads since start that found no value in memory (served the default)',
      registers,
      collect() {
        this.set(config.stats().cache.misses);
      },
    });
    new Gauge({
      name: 'config_writes_refused',
      help: 'Refused write attempts since start, by action and reason',
      labelNames: ['action', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const [what, n] of config.refusals) {
          const [action = '', reason = ''] = what.split(':');
          this.set({ action, reason }, n);
        }
      },
    });
    new Gauge({
      name: 'config_database_up',
      help: '1 when the database answers, 0 while this process serves its last-known values',
      registers,
      collect() {
        this.set(config.stats().database === 'connected' ? 1 : 0);
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
    new Gauge({
      name: 'config_job_runs',
      help: 'Job runs by this process since start, by job and outcome',
      labelNames: ['job', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const j of src.scheduler?.status() ?? []) {
          this.set({ job: j.name, outcome: 'completed' }, j.completed);
          this.set({ job: j.name, outcome: 'failed' }, j.failed);
        }
      },
    });
  }

  /** Counts a snapshot served. */
  readonly snapshot: () => void;

  read(key: string): void {
    this.reads.inc({ key });
  }

  write(key: string, action: string): void {
    this.writes.inc({ key, action });
  }

  close(): void {
    this.detach();
  }
}
