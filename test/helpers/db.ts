import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, inject, type TestContext } from 'vitest';
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

export type OwnServer = NonNullable<Awaited<ReturnType<typeof startOwnServer>>>;

export interface OwnServerFixture {
  /** Undefined when MONGODB_URI names a server the tests do not control. */
  readonly server: OwnServer | undefined;
  readonly db: TestDb;
  readonly svc: ConfigService;
}

/**
 * A server of this test file's own, which its tests may stop, kill and restart, with a database
 * and a ConfigService on it; opened before the tests, closed after them. Read the fields inside
 * tests, after `skipWithoutOwnServer`.
 */
export function useOwnServer(label: string): OwnServerFixture {
  const f = {} as { server: OwnServer | undefined; db: TestDb; svc: ConfigService };
  beforeAll(async () => {
    f.server = await startOwnServer();
    if (!f.server) return;
    f.db = await openTestDb(label, f.server.uri);
    f.svc = await openService(f.db);
  });
  afterAll(async () => {
    if (!f.server) return;
    await f.svc.close();
    await f.db.drop();
    await f.server.cleanup();
  });
  return f;
}

/** Skips a fault test, saying why, when there is no server it may stop; else returns that server. */
export function skipWithoutOwnServer(f: OwnServerFixture, ctx: TestContext, what: string): OwnServer {
  if (!f.server) {
    process.stderr.write(`${what} skipped: MONGODB_URI points to a server this test cannot stop\n`);
    ctx.skip();
  }
  return f.server as OwnServer;
}

export const actor = (id = '111111111111111111', tag = 'alice') => ({ id, tag });
