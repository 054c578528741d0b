import type { Connection } from 'mongoose';
import type { Env } from '../env.js';
import { logger } from '../logger.js';
import { connect } from './connection.js';
import { startEmbedded, type EmbeddedServer } from './embedded.js';

export interface Database {
  conn: Connection;
  /** Set when this process started the database itself. */
  embedded?: EmbeddedServer;
  close(): Promise<void>;
}

/** MONGODB_URI when set; otherwise an embedded database keeping its files in DATA_DIR. */
export async function openDatabase(env: Env): Promise<Database> {
  let embedded: EmbeddedServer | undefined;
  let uri = env.MONGODB_URI;
  if (!uri) {
    embedded = await startEmbedded({
      dataDir: env.DATA_DIR,
      prefer: env.EMBEDDED_DB,
      ferretdbPath: env.FERRETDB_PATH,
      searchPath: env.PATH,
    });
    uri = embedded.uri;
    logger.info(`Embedded database started: ${embedded.kind}, data in ${embedded.dataDir}, at ${uri}`);
  }
  const conn = await connect({ uri, dbName: env.MONGODB_DB_NAME, timeoutMs: env.DB_TIMEOUT_MS });
  return {
    conn,
    embedded,
    async close() {
      await conn.close();
      await embedded?.stop();
    },
  };
}
