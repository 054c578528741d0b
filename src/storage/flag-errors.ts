import { Schema, type Model } from 'mongoose';
import type { DbConnection } from './connection.js';

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

/**
 * Error reports of flags (`flag_errors`), one document per report, shared by every process that
 * takes reports so they count together. What the reports decide (the automatic kill) is
 * FlagErrors' job, in src/flags.
 */
export class FlagErrorRecords {
  private readonly model: Model<ErrorDoc>;

  constructor(conn: DbConnection) {
    this.model = (conn.models.FlagError ?? conn.model('FlagError', errorSchema)) as Model<ErrorDoc>;
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

  /** Records `count` errors of a flag at `at`. */
  async add(flag: string, count: number, at: Date): Promise<void> {
    await this.model.create({ flag, at, n: count });
  }

  /** The errors reported for a flag since `since` (inclusive). */
  async countSince(flag: string, since: Date): Promise<number> {
    const [sum] = await this.model
      .aggregate<{ n: number }>([
        { $match: { flag, at: { $gte: since } } },
        { $group: { _id: null, n: { $sum: '$n' } } },
      ])
      .exec();
    return sum?.n ?? 0;
  }

  /** Deletes the reports from before `before`. */
  async deleteBefore(before: Date): Promise<void> {
    await this.model.deleteMany({ at: { $lt: before } }).exec();
  }
}
