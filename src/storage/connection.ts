import { redactConnectionString } from 'mongodb-connection-string-url';
import mongoose, { type Connection } from 'mongoose';

const { MongoError } = mongoose.mongo;

/** A connection to the database, as the layers above storage hold it (without naming the driver). */
export type DbConnection = Connection;

export interface ConnectOptions {
  uri: string;
  dbName?: string;
  /** How long an operation waits for an unreachable server before failing. */
  timeoutMs: number;
}

/** The options every connection of this project uses (see connect). */
export function connectionOptions({
  dbName,
  timeoutMs,
}: Omit<ConnectOptions, 'uri'>): mongoose.ConnectOptions {
  return {
    ...(dbName ? { dbName } : {}),
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    // Notice a dead server within about a second, so outages are reported (and ended) promptly.
    heartbeatFrequencyMS: 1000,
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
  };
}

/** Opens a dedicated connection (not mongoose's global one), so several can live in one process. */
export async function connect({ uri, dbName, timeoutMs }: ConnectOptions): Promise<Connection> {
  const conn = mongoose.createConnection(uri, connectionOptions({ dbName, timeoutMs }));
  await conn.asPromise();
  return conn;
}

const UNAVAILABLE_NAMES = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'PoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoPoolClearedError',
]);

/**
 * Socket errors of the operating system. The driver passes some through unwrapped, e.g. EPIPE
 * ("This socket has been ended by the other party") when a command goes out on a pooled
 * connection the server closed a moment before.
 */
const SOCKET_ERROR_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT']);

/** True when an error means "the database could not be reached", as opposed to a rejected command. */
export function isUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (UNAVAILABLE_NAMES.has(err.name) || UNAVAILABLE_NAMES.has(err.constructor.name)) return true;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && SOCKET_ERROR_CODES.has(code)) return true;
  if (
    err instanceof MongoError &&
    (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('ResetPool'))
  ) {
    return true;
  }
  // mongoose raises plain errors when a command is issued on a closed or never-opened connection.
  return /before initial connection|connection .*closed|Client must be connected/i.test(err.message);
}

/** A URI with any password replaced, for logs and problem lines. */
export function redactUri(uri: string): string {
  try {
    return redactConnectionString(uri);
  } catch {
    // Not a connection string at all: hide whatever sits where a password would.
    return uri.replace(/\/\/([^:/@]+):([^@/]*)@/, '//$1:****@');
  }
}
