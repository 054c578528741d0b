import { errorDetail, logger } from '../base/logger.js';
import type { FlagErrorRecords } from '../storage/flag-errors.js';
import { thresholdText } from './diff.js';
import type { StoredFlag } from './types.js';

/** Error reports older than this are deleted (the longest window is 24 h). */
const KEEP_MS = 24 * 3600_000;
/** Old reports are deleted at most this often (by whichever report comes next). */
const TRIM_EVERY_MS = 60_000;

/** What a report of errors did. */
export interface ErrorReport {
  name: string;
  counted: number;
  /** Errors counted within the window since the flag last changed (null without a threshold). */
  errors: number | null;
  threshold: { errors: number; windowMs: number } | null;
  /** Whether this report switched the flag off. */
  killed: boolean;
  /** The flag's version after the report. */
  version: number;
}

/**
 * What the automatic kill needs of the flags (FlagStore provides it): the flag a report names,
 * and switching one off as the system (undefined when it was off already).
 */
export interface KillSwitch {
  require(name: string): StoredFlag;
  kill(name: string, why: string): Promise<{ version: number } | undefined>;
}

/**
 * The automatic kill. Applications report errors they attribute to a flag; the reports are shared
 * through the database (several API processes count together), and when a flag with an
 * `errorThreshold` gets that many within its window it is switched off by a new version made by
 * the system (KillSwitch.kill), which reaches every process like any change. Errors from before
 * the flag's last change do not count, so turning it back on starts from zero.
 */
export class FlagErrors {
  private lastTrim = 0;

  constructor(
    private readonly records: FlagErrorRecords,
    private readonly flags: KillSwitch,
  ) {}

  ensureIndexes(): Promise<void> {
    return this.records.ensureIndexes();
  }

  /** Records `count` errors of a flag and kills it if they pass its threshold. Throws for an unknown flag. */
  async report(input: string, count = 1, now = new Date()): Promise<ErrorReport> {
    const held = this.flags.require(input);
    const name = held.flag.name;
    await this.records.add(name, count, now);
    void this.trim(now);
    const t = held.flag.errorThreshold;
    if (!t)
      return { name, counted: count, errors: null, threshold: null, killed: false, version: held.version };
    const since = new Date(Math.max(now.getTime() - t.windowMs, held.updatedAt.getTime()));
    const errors = await this.records.countSince(name, since);
    let killed = false;
    let version = held.version;
    if (errors >= t.errors && held.flag.enabled && !held.flag.archived) {
      const seconds = Math.round((now.getTime() - since.getTime()) / 1000);
      const done = await this.flags.kill(
        name,
        `Automatic kill: ${errors} errors reported in the last ${seconds} s (threshold ${thresholdText(t)})`,
      );
      if (done) {
        killed = true;
        version = done.version;
        logger.warn(
          `Flag ${name} switched off automatically: ${errors} errors (threshold ${thresholdText(t)})`,
        );
      }
    }
    return { name, counted: count, errors, threshold: t, killed, version };
  }

  /** Deletes reports too old to count; a failure waits for the next trim (reports still count right). */
  private async trim(now: Date): Promise<void> {
    if (now.getTime() - this.lastTrim < TRIM_EVERY_MS) return;
    this.lastTrim = now.getTime();
    await this.records
      .deleteBefore(new Date(now.getTime() - KEEP_MS))
      .catch((err: unknown) => logger.debug('Could not delete old flag error reports', errorDetail(err)));
  }
}
