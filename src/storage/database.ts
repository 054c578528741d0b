import { ConnectionString } from 'mongodb-connection-string-url';
import mongoose, { type Connection } from 'mongoose';
import { errorDetail, logger } from '../base/logger.js';
import { connectionOptions, redactUri } from './connection.js';
import { startEmbedded, type EmbeddedOptions, type EmbeddedServer } from './embedded.js';
import type { DatabaseHealth } from './health.js';

export interface Database {
  /** The connection every model binds to; it may not be connected yet (see `connected`). */
  conn: Connection;
  /** The database in use: the one MONGODB_URI names, else MONGODB_DB_NAME. */
  name: string;
  /** Where it is, for messages (never with a password). */
  where: string;
  /** Set when this process started the database itself. */
  embedded?: EmbeddedServer;
  /** Whether the first connection succeeded; when not, why (one line). */
  connected: boolean;
  connectError?: string;
  /**
   * Keeps trying to connect, backing off up to 30 s between attempts, until it succeeds and
   * `onConnected` does too; never throws. close() ends it.
   */
  keepConnecting(onConnected: () => Promise<void>): void;
  close(): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

/** Where the database is (the process's environment, read by its caller). */
export interface DatabaseOptions {
  /** MONGODB_URI; absent: start an embedded database. */
  uri: string | undefined;
  /** MONGODB_DB_NAME: the database used when the URI names none. */
  defaultName: string;
  /** DB_TIMEOUT_MS: how long an operation waits for an unreachable server. */
  timeoutMs: number;
  /** How to start the embedded database (DATA_DIR, EMBEDDED_DB, FERRETDB_PATH, PATH). */
  embedded: EmbeddedOptions;
}

/** The database a connection string names, if it names one (`mongodb://host/mydb`). */
export function databaseInUri(uri: string): string | undefined {
  try {
    const name = decodeURIComponent(new ConnectionString(uri).pathname.replace(/^\//, ''));
    return name || undefined;
  } catch {
    return undefined;
  }
}

/**
 * MONGODB_URI when set; otherwise an embedded database keeping its files in DATA_DIR. An
 * unreachable server is not an error here: the caller decides whether it can start without it
 * (from a last-known-good copy) and asks to keep connecting.
 */
export async function openDatabase(opts: DatabaseOptions, health: DatabaseHealth): Promise<Database> {
  let embedded: EmbeddedServer | undefined;
  let uri = opts.uri;
  let connectError: string | undefined;
  const name = (uri && databaseInUri(uri)) ?? opts.defaultName;
  const startOwn = async () => {
    embedded = await startEmbedded(opts.embedded);
    logger.info(
      `Embedded database started: ${embedded.kind}, data in ${embedded.dataDir}, at ${embedded.uri}`,
    );
    return embedded.uri;
  };
  if (!uri) {
    try {
      uri = await startOwn();
    } catch (err) {
      connectError = errorDetail(err).error as string;
    }
  }
  const where = uri
    ? `${redactUri(uri)} (database ${name})`
    : `the embedded database in ${opts.embedded.dataDir}`;
  const options = connectionOptions({ dbName: name, timeoutMs: opts.timeoutMs });
  const conn = mongoose.createConnection();
  // Failures are reported by whoever ran the operation; an unhandled 'error' event would crash.
  conn.on('error', (err: unknown) => logger.debug('Database connection error', errorDetail(err)));
  let connected = false;
  if (uri) {
    try {
      await conn.openUri(uri, options);
      connected = true;
      logger.info(`Connected to ${where}`);
    } catch (err) {
      connectError = errorDetail(err).error as string;
    }
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  return {
    conn,
    name,
    where,
    get embedded() {
      return embedded;
    },
    connected,
    ...(connectError ? { connectError } : {}),
    keepConnecting(onConnected) {
      let delay = 1000;
      const attempt = async () => {
        if (stopped) return;
        try {
          uri ??= await startOwn();
          if (conn.readyState !== 1) await conn.openUri(uri, options);
          await onConnected();
          logger.info(`Connected to ${where}`);
          return;
        } catch (err) {
          health.noteFailure('connect', err);
          logger.warn(
            `Still cannot reach ${where}: ${errorDetail(err).error as string}; next try in ${delay / 1000} s`,
          );
        }
        timer = setTimeout(() => void attempt(), delay);
        timer.unref();
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      };
      timer = setTimeout(() => void attempt(), delay);
      timer.unref();
    },
    async close() {
      stopped = true;
      clearTimeout(timer);
      await conn
        .close()
        .catch((err: unknown) => logger.warn('Could not close the database connection', errorDetail(err)));
      await embedded?.stop();
    },
  };
}
