import type { ConfigService } from '../config/service.js';

/** What a job's schedule reads: a value by key. */
export interface ConfigReader {
  get(key: string): unknown;
}

export type { ScheduleForecast } from '../approvals/impact.js';

export interface JobRunContext {
  /** The scheduled time of this run (the same in every process). */
  slot: Date;
  config: ConfigService;
}

/**
 * A scheduled job, declared in one small file under src/jobs/ and listed in src/jobs/index.ts.
 * Its schedule comes from configuration: when one of `scheduleKeys` (or SCHEDULE_TIMEZONE)
 * changes, the job is rescheduled at once.
 */
export interface JobDefinition {
  name: string;
  description: string;
  /** Configuration keys its schedule is computed from. */
  scheduleKeys: readonly string[];
  /**
   * A node-cron expression (5 fields, or 6 with seconds) computed from the configuration (the
   * current one, or one with a proposed change, for the impact preview).
   */
  cron(config: ConfigReader): string;
  /** Does the work; the returned text is recorded as the run's summary. Throw to fail the run. */
  run(ctx: JobRunContext): Promise<string | void>;
}

export type RunStatus = 'running' | 'completed' | 'failed' | 'skipped';

export interface RunRecord {
  slot: Date;
  startedAt: Date;
  finishedAt?: Date;
  status: RunStatus;
  summary?: string;
  error?: string;
}

export interface JobStatus {
  name: string;
  description: string;
  cron: string;
  timezone: string;
  nextRun: Date | undefined;
  running: boolean;
  paused: boolean;
  lastRun: RunRecord | undefined;
  /** Runs that another process took (this one skipped them). */
  ranElsewhere: number;
  /** Runs this process completed and failed since it started (metrics). */
  completed: number;
  failed: number;
}
