import { CronExpressionParser } from 'cron-parser';
import cron, { type ScheduledTask } from 'node-cron';
import type { ConfigChange } from '../config/events.js';
import type { ConfigService } from '../config/service.js';
import { errorDetail, logger } from '../base/logger.js';
import type { Lease } from '../storage/lease.js';
import type { JobRunFields, JobRuns } from '../storage/job-runs.js';
import type { ConfigReader, JobDefinition, JobStatus, RunRecord, ScheduleForecast } from './types.js';

export interface SchedulerOptions {
  config: ConfigService;
  runs: JobRuns;
  jobs: readonly JobDefinition[];
  /** Identifies this process in run records and /config status. */
  instanceId: string;
  /** Posts a failure alert (ALERT_CHANNEL_ID); its own failure is logged and ignored. */
  alert?: (text: string) => Promise<void>;
}

interface JobState {
  def: JobDefinition;
  task: ScheduledTask | undefined;
  cron: string;
  timezone: string;
  running: Promise<void> | undefined;
  rescheduleAfterRun: boolean;
  lastRun: RunRecord | undefined;
  ranElsewhere: number;
  completed: number;
  failed: number;
}

const TIMEZONE_KEY = 'SCHEDULE_TIMEZONE';
const MAINTENANCE_KEY = 'MAINTENANCE_MODE';

/**
 * Runs configuration-driven jobs with node-cron. A change of a job's schedule keys (or of
 * SCHEDULE_TIMEZONE) reschedules it at once, or right after its current run; runs never overlap;
 * MAINTENANCE_MODE pauses every job; each scheduled run is leased in the database so exactly one
 * process runs it. A failing run is logged, recorded and alerted, and the scheduler carries on.
 */
export class Scheduler {
  private readonly states = new Map<string, JobState>();
  private unsubscribe: (() => void) | undefined;
  private stopped = true;
  private runsReady = false;

  constructor(private readonly opts: SchedulerOptions) {
    for (const def of opts.jobs) {
      if (this.states.has(def.name)) throw new Error(`Two jobs are named ${def.name}`);
      this.states.set(def.name, {
        def,
        task: undefined,
        cron: '',
        timezone: '',
        running: undefined,
        rescheduleAfterRun: false,
        lastRun: undefined,
        ranElsewhere: 0,
        completed: 0,
        failed: 0,
      });
    }
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.prepareRuns();
    const keys = new Set([TIMEZONE_KEY, MAINTENANCE_KEY, ...this.opts.jobs.flatMap((j) => j.scheduleKeys)]);
    this.unsubscribe = this.opts.config.subscribe([...keys], (change) => this.onChange(change));
    for (const state of this.states.values()) this.schedule(state);
  }

  /**
   * Indexes and the closing of runs whose process died. Started from the last-known-good copy,
   * the database may not answer yet: jobs are scheduled all the same, and this is tried again
   * before each run.
   */
  private async prepareRuns(): Promise<void> {
    if (this.runsReady) return;
    try {
      await this.opts.runs.ensureIndexes();
      this.runsReady = true;
    } catch (err) {
      this.opts.config.health.noteFailure('job runs', err);
      logger.warn('Jobs are scheduled, but their runs wait for the database, which does not answer yet');
      logger.debug('Job runs not prepared', errorDetail(err));
    }
  }

  /** Stops every task and listener, then waits (up to `graceMs`) for runs in progress. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const running: Promise<void>[] = [];
    for (const state of this.states.values()) {
      await state.task?.destroy();
      state.task = undefined;
      if (state.running) running.push(state.running);
    }
    if (running.length) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(running), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
  }

  /**
   * What setting `key` to `value` would do to each job whose schedule reads it (or the time
   * zone): its cron expression, zone and next `count` runs, before and after. Computed from the
   * job definitions, not the running tasks, so it changes nothing.
   */
  forecast(key: string, value: unknown, count = 3, from = new Date()): ScheduleForecast[] {
    const now: ConfigReader = { get: (k) => this.opts.config.get(k) };
    const then: ConfigReader = { get: (k) => (k === key ? value : this.opts.config.get(k)) };
    return this.opts.jobs
      .filter((j) => key === TIMEZONE_KEY || j.scheduleKeys.includes(key))
      .map((j) => ({
        job: j.name,
        before: runsOf(j.cron(now), String(now.get(TIMEZONE_KEY)), count, from),
        after: (() => {
          try {
            return runsOf(j.cron(then), String(then.get(TIMEZONE_KEY)), count, from);
          } catch (err) {
            return { error: errorDetail(err).error as string };
          }
        })(),
      }));
  }

  status(): JobStatus[] {
    const paused = this.paused();
    return [...this.states.values()].map((s) => ({
      name: s.def.name,
      description: s.def.description,
      cron: s.cron,
      timezone: s.timezone,
      nextRun: s.task?.getNextRun() ?? undefined,
      running: Boolean(s.running),
      paused,
      lastRun: s.lastRun,
      ranElsewhere: s.ranElsewhere,
      completed: s.completed,
      failed: s.failed,
    }));
  }

  private paused(): boolean {
    return this.opts.config.get(MAINTENANCE_KEY) === true;
  }

  private onChange(change: ConfigChange): void {
    if (change.key === MAINTENANCE_KEY) {
      logger.info(
        change.newValue === true
          ? 'Maintenance mode on: every job is paused'
          : 'Maintenance mode off: jobs resume',
      );
      return;
    }
    for (const state of this.states.values()) {
      if (change.key === TIMEZONE_KEY || state.def.scheduleKeys.includes(change.key)) this.reschedule(state);
    }
  }

  private reschedule(state: JobState): void {
    if (state.running) {
      state.rescheduleAfterRun = true;
      logger.info(`Job ${state.def.name} is running; it will be rescheduled when this run ends`);
      return;
    }
    this.schedule(state);
  }

  /** (Re)creates the job's cron task from the current configuration, if it changed. */
  private schedule(state: JobState): void {
    if (this.stopped) return;
    state.rescheduleAfterRun = false;
    let expression: string;
    const timezone = String(this.opts.config.get(TIMEZONE_KEY));
    try {
      expression = state.def.cron(this.opts.config);
      if (!cron.validate(expression)) throw new Error(`invalid cron expression "${expression}"`);
    } catch (err) {
      logger.error(
        `Job ${state.def.name} keeps its previous schedule: its new one is invalid`,
        errorDetail(err),
      );
      return;
    }
    if (state.task && expression === state.cron && timezone === state.timezone) return;
    void state.task?.destroy();
    const task = cron.createTask(expression, (ctx) => this.tick(state, ctx.date), {
      timezone,
      name: state.def.name,
    });
    void task.start();
    state.task = task;
    state.cron = expression;
    state.timezone = timezone;
    logger.info(
      `Job ${state.def.name} scheduled: "${expression}" (${timezone}), next run ${task.getNextRun()?.toISOString() ?? 'never'}`,
    );
  }

  private async tick(state: JobState, scheduled: Date): Promise<void> {
    if (this.stopped) return;
    if (this.paused()) {
      logger.info(`Job ${state.def.name} skipped: maintenance mode`);
      return;
    }
    if (state.running) {
      logger.warn(`Job ${state.def.name} skipped a run: the previous one is still running`);
      return;
    }
    const slot = new Date(Math.floor(scheduled.getTime() / 1000) * 1000);
    const run = this.runOnce(state, slot);
    state.running = run;
    try {
      await run;
    } finally {
      this.finishRun(state);
    }
  }

  private async runOnce(state: JobState, slot: Date): Promise<void> {
    const { def } = state;
    let lease: Lease<JobRunFields>;
    try {
      await this.prepareRuns();
      const claim = await this.opts.runs.acquire(def.name, slot, this.opts.instanceId);
      if (claim.kind !== 'acquired') {
        state.ranElsewhere++;
        logger.debug(`Job ${def.name} at ${slot.toISOString()} is run by ${claim.current.holder}`);
        return;
      }
      lease = claim.lease;
    } catch (err) {
      this.opts.config.health.noteFailure(`lease for ${def.name}`, err);
      logger.warn(
        `Job ${def.name} skipped at ${slot.toISOString()}: could not take its lease`,
        errorDetail(err),
      );
      return;
    }
    const record: RunRecord = { slot, startedAt: new Date(), status: 'running' };
    state.lastRun = record;
    logger.info(`Job ${def.name} started (scheduled ${slot.toISOString()})`);
    try {
      const summary = await def.run({ slot, config: this.opts.config });
      Object.assign(record, { status: 'completed', ...(summary ? { summary } : {}) });
      state.completed++;
      logger.info(`Job ${def.name} completed${summary ? `: ${summary}` : ''}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      Object.assign(record, { status: 'failed', error: message });
      state.failed++;
      logger.error(`Job ${def.name} failed (scheduled ${slot.toISOString()})`, errorDetail(err));
      await this.opts
        .alert?.(`⚠️ Job **${def.name}** failed (scheduled ${slot.toISOString()}): ${message.slice(0, 1500)}`)
        .catch((alertErr: unknown) => logger.warn('Could not post the failure alert', errorDetail(alertErr)));
    }
    record.finishedAt = new Date();
    const fields = {
      ...(record.summary ? { summary: record.summary } : {}),
      ...(record.error ? { error: record.error } : {}),
    };
    await lease
      .finish(record.status === 'completed' ? 'completed' : 'failed', fields)
      .catch((err: unknown) => logger.warn(`Could not record the run of ${def.name}`, errorDetail(err)));
  }

  private finishRun(state: JobState): void {
    state.running = undefined;
    if (state.rescheduleAfterRun) this.schedule(state);
  }
}

/** The next `count` runs of a cron expression in a time zone, from `from` (cron-parser, as node-cron reads them). */
function runsOf(
  cron: string,
  timezone: string,
  count: number,
  from: Date,
): { cron: string; timezone: string; next: Date[] } {
  const it = CronExpressionParser.parse(cron, { tz: timezone, currentDate: from });
  return { cron, timezone, next: it.take(count).map((d) => d.toDate()) };
}
