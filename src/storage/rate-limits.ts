import type { DbConnection } from './connection.js';

/** One user's recent write attempts and committed changes. */
export interface RateRecord {
  attempts: Date[];
  changes: Date[];
}

/**
 * Where the per-user write limits of the bot live: `config_rate_limits`, one small document per
 * user found by _id (the one lookup FerretDB's SQLite backend answers from an index, so the check
 * stays fast as logs grow), shared by every bot process.
 */
export class RateRecords {
  constructor(private readonly conn: DbConnection) {}

  async read(actorId: string): Promise<RateRecord> {
    const doc = await this.collection().findOne({ _id: actorId });
    return { attempts: doc?.attempts ?? [], changes: doc?.changes ?? doc?.times ?? [] };
  }

  async save(actorId: string, record: RateRecord): Promise<void> {
    await this.collection().updateOne(
      { _id: actorId },
      { $set: record, $unset: { times: '' } },
      { upsert: true },
    );
  }

  private collection() {
    // `times` is what earlier versions kept (attempts and changes alike); read once, then dropped.
    return this.conn.collection<{ _id: string; attempts?: Date[]; changes?: Date[]; times?: Date[] }>(
      'config_rate_limits',
    );
  }
}
