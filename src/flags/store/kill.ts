import { Schema, type Connection, type Model } from 'mongoose';
import { logger } from '../../logger.js';
import { thresholdText } from './diff.js';
import type { FlagStore } from './flags.js';

/** Error reports older than this are deleted (the longest window is 24 h). */
const KEEP_MS = 24 * 3600_000;

interface ErrorDoc {
  flag: string;
  at: Date;
  n: number;
}

const errorSchema = new Schema<ErrorDoc>(
  {
    flag: { type: String, required: true },
    at: { type: Date, required: true },
    n: { type: Number, required: true },
  },
  { versionKey: false, bufferCommands: false, collection: 'flag_errors' },
);
errorSchema.index({ flag: 1, at: -1 });
errorSchema.index({ at: 1 });

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
 * The automatic kill. Applications report errors they attribute to a flag; the reports are shared
 * through the database (several API processes count together), and when a flag with an
 * `errorThreshold` gets that many within its window it is switched off by a new version made by
 * the system (FlagStore.kill), which reaches every process like any change. Errors from before the
 * flag's last change do not count, so turning it back on starts from zero.
 */
export class FlagErrors {
  private readonly model: Model<ErrorDoc>;
  private lastTrim = 0;

  constructor(
    conn: Connection,
    private readonly flags: FlagStore,
  ) {
    this.model = (conn.models.FlagError ?? conn.model('FlagError', errorSchema)) as Model<ErrorDoc>;
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

  /** Records `count` errors of a flag and kills it if they pass its threshold. Throws for an unknown flag. */
  async report(input: string, count = 1, now = new Date()): Promise<ErrorReport> {
    const held = this.flags.require(input);
    const name = held.flag.name;
    await this.model.create({ flag: name, at: now, n: count });
    void this.trim(now);
    const t = held.flag.errorThreshold;
    if (!t)
      return { name, counted: count, errors: null, threshold: null, killed: false, version: held.version };
    const since = new Date(Math.max(now.getTime() - t.windowMs, held.updatedAt.getTime()));
    const [sum] = await this.model
      .aggregate<{ n: number }>([
        { $match: { flag: name, at: { $gte: since } } },
        { $group: { _id: null, n: { $sum: '$n' } } },
      ])
      .exec();
    const errors = sum?.n ?? 0;
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

  private async trim(now: Date): Promise<void> {
    if (now.getTime() - this.lastTrim < 60_000) return;
    this.lastTrim = now.getTime();
    await this.model.deleteMany({ at: { $lt: new Date(now.getTime() - KEEP_MS) } }).catch(() => undefined);
  }
}
