import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '../db/connection.js';
import type { RunStatus } from './types.js';

export interface JobRunDoc {
  /** `${job}@${slot ISO}`: unique, so exactly one process wins each scheduled run. */
  _id: string;
  job: string;
  slot: Date;
  instance: string;
  status: RunStatus;
  startedAt: Date;
  finishedAt?: Date;
  summary?: string;
  error?: string;
}

const schema = new Schema<JobRunDoc>(
  {
    _id: { type: String, required: true },
    job: { type: String, required: true },
    slot: { type: Date, required: true },
    instance: { type: String, required: true },
    status: { type: String, required: true },
    startedAt: { type: Date, required: true },
    finishedAt: Date,
    summary: String,
    error: String,
  },
  { collection: 'job_runs', versionKey: false, bufferCommands: false },
);
schema.index({ job: 1, slot: -1 });

/** One document per job and scheduled time: the lease that decides who runs it, then its record. */
export class JobRuns {
  private readonly model: Model<JobRunDoc>;

  constructor(conn: Connection) {
    this.model =
      (conn.models.JobRun as Model<JobRunDoc> | undefined) ?? conn.model<JobRunDoc>('JobRun', schema);
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }

  /** Takes the run of `job` at `slot`; false when another process already took it. */
  async acquire(job: string, slot: Date, instance: string): Promise<boolean> {
    try {
      await this.model.collection.insertOne({
        _id: `${job}@${slot.toISOString()}` as never,
        job,
        slot,
        instance,
        status: 'running',
        startedAt: new Date(),
      });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async finish(
    job: string,
    slot: Date,
    fields: Pick<JobRunDoc, 'status' | 'summary' | 'error'>,
  ): Promise<void> {
    await this.model.collection.updateOne(
      { _id: `${job}@${slot.toISOString()}` as never },
      { $set: { ...fields, finishedAt: new Date() } },
    );
  }

  recent(job: string, limit = 10): Promise<JobRunDoc[]> {
    return this.model.find({ job }).sort({ slot: -1 }).limit(limit).lean<JobRunDoc[]>().exec();
  }
}
