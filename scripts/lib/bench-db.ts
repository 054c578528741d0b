import type { Connection } from 'mongoose';
import { connect } from '../../src/storage/connection.js';
import { databaseInUri } from '../../src/storage/database.js';
import { StartupError } from '../../src/base/errors.js';

export interface BenchDatabase {
  conn: Connection;
  /** Where every process of the bench works: its peers are handed this name with the URI. */
  name: string;
}

/**
 * The database the bench works in, by the rule every entry point follows (src/db): the one
 * MONGODB_URI names, else a fresh `bench_<time>` (the bench's API process reads the same URI, so
 * both must land in one database, or its tokens are not found). The bench writes thousands of
 * versions and drops the database when done, so a named database must be empty.
 */
export async function openBenchDatabase(uri: string, now = Date.now()): Promise<BenchDatabase> {
  const named = databaseInUri(uri);
  const name = named ?? `bench_${now}`;
  const conn = await connect({ uri, dbName: name, timeoutMs: 10_000 });
  if (named) {
    const held = await conn.listCollections();
    if (held.length) {
      await conn.close();
      throw new StartupError(
        `MONGODB_URI names the database ${named}, which holds ${held.length} collection(s): the bench fills the database it uses and drops it when done. Name an empty database (mongodb://host/config_bot_bench), or none and the bench makes its own.`,
      );
    }
  }
  return { conn, name };
}
