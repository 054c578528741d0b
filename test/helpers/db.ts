import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { inject } from 'vitest';
import { ConfigService } from '../../src/config/service.js';
import { registry as defaultRegistry, type Registry } from '../../src/config/registry.js';
import { connect } from '../../src/db/connection.js';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';
import { env } from '../../src/env.js';

/** A database name of its own for each test file (and each call), so files run in parallel. */
export function uniqueDbName(label: string): string {
  return `t_${label.replace(/[^A-Za-z0-9]/g, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
}

export interface TestDb {
  uri: string;
  dbName: string;
  conn: Connection;
  drop(): Promise<void>;
}

export async function openTestDb(label: string, uri = inject('mongoUri')): Promise<TestDb> {
  const dbName = uniqueDbName(label);
  const conn = await connect({ uri, dbName, timeoutMs: 3000 });
  return {
    uri,
    dbName,
    conn,
    async drop() {
      try {
        await conn.dropDatabase();
      } finally {
        await conn.close();
      }
    },
  };
}

export async function openService(
  db: TestDb,
  opts: { registry?: Registry; writeRetries?: number } = {},
): Promise<ConfigService> {
  const service = new ConfigService({
    registry: opts.registry ?? defaultRegistry,
    conn: db.conn,
    writeRetries: opts.writeRetries ?? 8,
  });
  await service.init();
  return service;
}

/**
 * A database server owned by one test, which it may stop and restart (fault tests). Undefined
 * when MONGODB_URI points to a server the tests do not control.
 */
export async function startOwnServer(): Promise<(EmbeddedServer & { cleanup(): Promise<void> }) | undefined> {
  const e = env();
  if (e.MONGODB_URI) return undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'config-bot-own-'));
  const server = await startEmbedded({
    dataDir: dir,
    prefer: e.EMBEDDED_DB,
    ferretdbPath: e.FERRETDB_PATH,
    searchPath: e.PATH,
  });
  return Object.assign(server, {
    async cleanup() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export const actor = (id = '111111111111111111', tag = 'alice') => ({ id, tag });
