import type { DbConnection } from './connection.js';
import { LeaseTable, type Claim, type LeaseRecord } from './lease.js';

export interface JobRunFields {
  job: string;
  slot: Date;
  summary?: string;
  error?: string;
}

export type JobRunDoc = LeaseRecord<JobRunFields>;

/**
 * The scheduler's runs in `job_runs`: one lease per job and scheduled time (`job@slot`), so
 * exactly one process runs each, then its record. A run whose process died is taken over by a
 * process that reaches the same time later, and marked abandoned at the next start otherwise.
 */
export class JobRuns {
  private readonly table: LeaseTable<JobRunFields>;

  constructor(conn: DbConnection, { ttlMs = 60_000 } = {}) {
    this.table = new LeaseTable<JobRunFields>(conn, 'job_runs', { ttlMs, what: 'job run' }, [
      { job: 1, slot: -1 },
    ]);
  }

  /** Creates the indexes and closes the runs whose holder died. */
  async ensureIndexes(): Promise<void> {
    await this.table.ensureIndexes();
    await this.table.abandonStale();
  }

  /** Takes the run of `job` at `slot`. */
  acquire(job: string, slot: Date, instance: string): Promise<Claim<JobRunFields>> {
    return this.table.acquire(`${job}@${slot.toISOString()}`, instance, { job, slot });
  }

  recent(job: string, limit = 10): Promise<JobRunDoc[]> {
    return this.table.model.find({ job }).sort({ slot: -1 }).limit(limit).lean<JobRunDoc[]>().exec();
  }
}
