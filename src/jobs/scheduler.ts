import type { ConfigChange } from '../config/events.js';
import type { ConfigService } from '../config/service.js';
import { errorDetail, logger } from '../base/logger.js';
import type { Lease } from '../storage/lease.js';
import type { JobRunFields, JobRuns } from '../storage/job-runs.js';
import { systemClock, type Clock } from './clock.js';
import { CronSchedule } from './cron-schedule.js';
import type { ConfigReader, JobDefinition, JobStatus, RunRecord, ScheduleForecast } from './types.js';

export interface SchedulerOptions {
  config: ConfigService;
  runs: JobRuns;
  jobs: readonly JobDefinition[];
  /** Identifies this process in run records and /config status. */
  instanceId: string;
  /** Posts a failure alert (ALERT_CHANNEL_ID); its own failure is logged and ignored. */
  alert?: (text: string) => Promise<void>;
  /** The system clock unless a test passes its own. */
  clock?: Clock;
}

interface JobState {
  def: JobDefinition;
  schedule: CronSchedule | undefined;
  /** The run the timer is armed for, and how to cancel it. */
  next: Date | undefined;
  cancel: (() => void) | undefined;
  running: Promise<void> | undefined;
  rescheduleAfterRun: boolean;
  lastRun: RunRecord | undefined;
  ranElsewhere: number;
  completed: number;
  failed: number;
}

const TIMEZONE_KEY = 'SCHEDULE_TIMEZONE';
const MAINTENANCE_KEY = 'MAINTENANCE_MODE';
/** A long wait is taken in steps, so that it follows a system clock set right in the meantime. */
const MAX_WAIT_MS = 3_600_000;

/**
 * Runs configuration-driven jobs, each at the runs its CronSchedule gives (the rule for
 * daylight-saving days is there; node-cron's own timer cannot keep it, see CronSchedule), with
 * one timer per job armed for its next run. A change of a job's schedule keys (or of
 * SCHEDULE_TIMEZONE) reschedules it at once, or right after its current run; runs never overlap;
 * MAINTENANCE_MODE pauses every job; each scheduled run is leased in the database so exactly one
 * process runs it. A failing run is logged, recorded and alerted, and the scheduler carries on.
 */
export class Scheduler {
  private readonly states = new Map<string, JobState>();
  private readonly clock: Clock;
  private unsubscribe: (() => void) | undefined;
  private stopped = true;
  private runsReady = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? systemClock;
    for (const def of opts.jobs) {
      if (this.states.has(def.name)) throw new Error(`Two jobs are named ${def.name}`);
      this.states.set(def.name, {
        def,
        schedule: undefined,
        next: undefined,
        cancel: undefined,
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

  /** Stops every timer and listener, then waits (up to `graceMs`) for runs in progress. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const running: Promise<void>[] = [];
    for (const state of this.states.values()) {
      state.cancel?.();
      state.cancel = undefined;
      state.next = undefined;
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
  forecast(key: string, value: unknown, count = 3, from = new Date(this.clock.now())): ScheduleForecast[] {
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
      cron: s.schedule?.expression ?? '',
      timezone: s.schedule?.timezone ?? '',
      nextRun: s.next,
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

  /** Re-arms the job's timer from the current configuration, if its schedule changed. */
  private schedule(state: JobState): void {
    if (this.stopped) return;
    state.rescheduleAfterRun = false;
    const timezone = String(this.opts.config.get(TIMEZONE_KEY));
    let schedule: CronSchedule;
    try {
      const expression = state.def.cron(this.opts.config);
      const current = state.schedule;
      if (state.cancel && current?.expression === expression && current.timezone === timezone) return;
      schedule = new CronSchedule(expression, timezone);
      schedule.next(new Date(this.clock.now()));
    } catch (err) {
      logger.error(
        `Job ${state.def.name} keeps its previous schedule: its new one is invalid`,
        errorDetail(err),
      );
      return;
    }
    state.cancel?.();
    state.schedule = schedule;
    this.arm(state, this.clock.now());
    logger.info(
      `Job ${state.def.name} scheduled: "${schedule.expression}" (${timezone}), next run ${state.next?.toISOString() ?? 'never'}`,
    );
  }

  /** Arms the job's timer for its first run after `from`. */
  private arm(state: JobState, from: number): void {
    state.cancel = undefined;
    state.next = undefined;
    if (this.stopped || !state.schedule) return;
    try {
      state.next = state.schedule.next(new Date(from))[0];
    } catch (err) {
      logger.error(`Job ${state.def.name} has no next run`, errorDetail(err));
    }
    if (state.next) this.wait(state, state.next);
  }

  private wait(state: JobState, next: Date): void {
    const delay = Math.min(Math.max(next.getTime() - this.clock.now(), 0), MAX_WAIT_MS);
    state.cancel = this.clock.after(delay, () => {
      const now = this.clock.now();
      if (now < next.getTime()) {
        this.wait(state, next);
        return;
      }
      // Late by more than a period (a suspended machine): the runs in between are not made up.
      const following = state.schedule?.next(next)[0];
      const missed = following !== undefined && following.getTime() < now;
      if (missed) logger.warn(`Job ${state.def.name} missed its runs from ${following.toISOString()} to now`);
      this.arm(state, missed ? now : next.getTime());
      this.tick(state, next).catch((err: unknown) =>
        logger.error(`Job ${state.def.name} could not run`, errorDetail(err)),
      );
    });
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

/** The next `count` runs of a cron expression in a time zone, from `from`: the runs the scheduler makes. */
function runsOf(
  cron: string,
  timezone: string,
  count: number,
  from: Date,
): { cron: string; timezone: string; next: Date[] } {
  return { cron, timezone, next: new CronSchedule(cron, timezone).next(from, count) };
}
