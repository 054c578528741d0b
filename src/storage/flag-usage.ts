import { Schema, type Model } from 'mongoose';
import type { DbConnection } from './connection.js';

/** Counts by reason (the reasons are the flag engine's; storage keeps whatever it is given). */
export type CountsByReason = Record<string, number>;

/** One flag's evaluations in one hour. */
export interface UsageBucket {
  name: string;
  hour: Date;
  counts: CountsByReason;
}

interface BucketDoc extends UsageBucket {
  /** `<name>|<hour start, ISO>`: one document per flag per hour, incremented in place. */
  _id: string;
}

interface SeenDoc {
  /** The flag name (or an unknown name an application evaluated). */
  _id: string;
  firstAt: Date;
  lastAt: Date;
}

const bucketSchema = new Schema<BucketDoc>(
  {
    _id: { type: String },
    name: { type: String, required: true },
    hour: { type: Date, required: true },
    counts: { type: Schema.Types.Mixed, required: true },
  },
  { versionKey: false, bufferCommands: false, collection: 'flag_evaluations', minimize: false },
);
bucketSchema.index({ hour: -1 });

const seenSchema = new Schema<SeenDoc>(
  {
    _id: { type: String },
    firstAt: { type: Date, required: true },
    lastAt: { type: Date, required: true },
  },
  { versionKey: false, bufferCommands: false, collection: 'flag_evaluations_seen' },
);

/**
 * Flag evaluation counts: hourly buckets per flag (`flag_evaluations`), incremented in place by
 * every reporter, and when each name was first and last evaluated (`flag_evaluations_seen`).
 * Which hour, which reasons count and how long buckets are kept is FlagUsage's job, in src/flags.
 */
export class FlagUsageRecords {
  private readonly buckets: Model<BucketDoc>;
  private readonly seen: Model<SeenDoc>;

  constructor(conn: DbConnection) {
    this.buckets = (conn.models.FlagEvaluation ??
      conn.model('FlagEvaluation', bucketSchema)) as Model<BucketDoc>;
    this.seen = (conn.models.FlagEvaluationSeen ??
      conn.model('FlagEvaluationSeen', seenSchema)) as Model<SeenDoc>;
  }

  async ensureIndexes(): Promise<void> {
    await this.buckets.createIndexes();
  }

  /**
   * Adds each name's counts to its bucket of `hour` (created on first use), and marks the names
   * evaluated at `at`. Increments, so concurrent reporters never lose each other's counts.
   */
  async add(hour: Date, at: Date, rows: readonly { name: string; counts: CountsByReason }[]): Promise<void> {
    if (!rows.length) return;
    const bucketOps = rows.map(({ name, counts }) => ({
      updateOne: {
        filter: { _id: `${name}|${hour.toISOString()}` },
        update: {
          $inc: Object.fromEntries(Object.entries(counts).map(([reason, n]) => [`counts.${reason}`, n])),
          $setOnInsert: { name, hour },
        },
        upsert: true,
      },
    }));
    const seenOps = rows.map(({ name }) => ({
      updateOne: {
        filter: { _id: name },
        update: { $min: { firstAt: at }, $max: { lastAt: at } },
        upsert: true,
      },
    }));
    await this.buckets.collection.bulkWrite(bucketOps as never, { ordered: false });
    await this.seen.collection.bulkWrite(seenOps as never, { ordered: false });
  }

  /** The buckets of `since` and later hours. */
  since(since: Date): Promise<UsageBucket[]> {
    return this.buckets
      .find({ hour: { $gte: since } })
      .lean<UsageBucket[]>()
      .exec();
  }

  /** Deletes the buckets of hours before `before`. */
  async deleteBefore(before: Date): Promise<void> {
    await this.buckets.deleteMany({ hour: { $lt: before } }).exec();
  }

  /** When each name was last evaluated anywhere (names never evaluated are absent). */
  async lastEvaluated(): Promise<Map<string, Date>> {
    const docs = await this.seen.find({}).lean<SeenDoc[]>().exec();
    return new Map(docs.map((d) => [d._id, d.lastAt]));
  }
}
