/**
 * Load on an API process for the DATA_DIR faults: tagged writes and reads counted in a ledger,
 * and a file system filled to its last byte.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ENVIRONMENTS } from '../lib/cluster.js';
import type { Ledger } from './accounting.js';
import { call, isPlainRefusal, stackLines } from './common.js';

const KEY = 'MAX_BATCH_SIZE';

/** The environment of an API process of this fault (its own database name and DATA_DIR). */
export function apiEnv(uri: string, dbName: string, dataDir: string, port: number): Record<string, string> {
  return {
    MONGODB_URI: uri,
    MONGODB_DB_NAME: dbName,
    DATA_DIR: dataDir,
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    DISCORD_TOKEN: '',
    NODE_ENV: 'development',
    APPROVALS_REQUIRED: 'none',
    ENVIRONMENTS: ENVIRONMENTS.join(','),
    API_WRITES_PER_MIN: '100000',
    DB_TIMEOUT_MS: '1000',
    EXPORT_DIR: path.join(dataDir, '..', `exports-${dbName}`),
  };
}

/** Drives one API process: tagged writes and reads, each answer counted in the ledger. */
export class Load {
  private n = 0;
  constructor(
    private readonly port: number,
    private readonly token: string,
    private readonly prefix: string,
    readonly ledger: Ledger,
    /** The first value written (each write writes the next, so none is unchanged). */
    private readonly base: number,
  ) {}

  async write(): Promise<boolean> {
    const tag = `${this.prefix}-${++this.n}`;
    const a = await call(this.port, `/v1/config/${KEY}`, {
      token: this.token,
      method: 'PUT',
      body: { value: this.base + (this.n % 400), reason: tag },
    });
    const ok = a.status >= 200 && a.status < 300;
    const plain = !ok && isPlainRefusal(a);
    const version = ok && typeof a.json?.version === 'number' ? a.json.version : undefined;
    this.ledger.writes.push({ tag, status: a.status, plain, ...(version !== undefined ? { version } : {}) });
    this.count(a.status, plain, a.body);
    return ok;
  }

  async read(): Promise<boolean> {
    const a = await call(this.port, `/v1/config/${KEY}`, { token: this.token });
    const ok = a.status === 200;
    this.count(a.status, !ok && isPlainRefusal(a), a.body);
    return ok;
  }

  /** `n` writes, each followed by a read; `together`: all at once (each waits out DB_TIMEOUT_MS in an outage). */
  async round(n: number, together = false): Promise<void> {
    const pair = async () => {
      await this.write();
      await this.read();
    };
    if (together) await Promise.all(Array.from({ length: n }, pair));
    else for (let i = 0; i < n; i++) await pair();
  }

  private count(status: number, plain: boolean, body: string): void {
    const l = this.ledger;
    l.attempted++;
    if (status >= 200 && status < 300) l.succeeded++;
    else if (plain) l.refused++;
    else if (l.odd.length < 3) l.odd.push(`${status}: ${body.slice(0, 120)}`);
    if (stackLines([body])) l.stackTraces++;
  }
}

/** Fills the file system of `dir` to the last byte; returns how many bytes it took. */
export function fill(dir: string): number {
  const fd = openSync(path.join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(4096, 0x2e);
  let bytes = 0;
  try {
    for (;;) bytes += writeSync(fd, chunk);
  } catch {
    // ENOSPC: full, as intended. Then the last partial block.
    for (let size = 2048; size >= 1; size = Math.floor(size / 2)) {
      try {
        bytes += writeSync(fd, chunk.subarray(0, size));
      } catch {
        // that much did not fit; try less
      }
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}
