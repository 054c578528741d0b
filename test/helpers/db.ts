import type { SigningKey, TrustedKey } from '../../src/audit/signing.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, inject, type TestContext } from 'vitest';
import { ConfigService } from '../../src/config/service.js';
import type { EnvOverride } from '../../src/config/env-overrides.js';
import type { CrossKeyRule } from '../../src/config/rules.js';
import { registry as defaultRegistry, type ImpactLevel, type Registry } from '../../src/config/registry.js';
import { connect } from '../../src/storage/connection.js';
import { NoEmbeddedDatabaseError, startEmbedded, type EmbeddedServer } from '../../src/storage/embedded.js';
import { env } from '../../src/app/env.js';

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

/** What a test may vary in the service it opens; the rest is as the product ships. */
export interface TestServiceOptions {
  registry?: Registry;
  writeRetries?: number;
  overrides?: EnvOverride[];
  rules?: CrossKeyRule[];
  /** APPROVALS_REQUIRED (default: none, so writes apply at once) and APPROVAL_TTL. */
  approvals?: Partial<Record<ImpactLevel, number>>;
  approvalTtlMs?: number;
  /** AUDIT_SIGNING_KEY and AUDIT_TRUSTED_KEYS. */
  auditKeys?: { signing?: SigningKey; trusted?: TrustedKey[] };
}

export async function openService(db: TestDb, opts: TestServiceOptions = {}): Promise<ConfigService> {
  const service = new ConfigService({
    registry: opts.registry ?? defaultRegistry,
    conn: db.conn,
    writeRetries: opts.writeRetries ?? 8,
    ...(opts.overrides ? { overrides: opts.overrides } : {}),
    ...(opts.rules ? { rules: opts.rules } : {}),
    ...(opts.approvals ? { approvals: opts.approvals } : {}),
    ...(opts.approvalTtlMs ? { approvalTtlMs: opts.approvalTtlMs } : {}),
    ...(opts.auditKeys ? { auditKeys: opts.auditKeys } : {}),
  });
  await service.init();
  return service;
}

/**
 * A database server of the calling test file's own, in a temp dir, which it may stop, kill and
 * restart (fault tests): an embedded FerretDB or mongod, started whether or not MONGODB_URI names
 * the server the other tests share. `unavailable` says why when no embedded server can be started
 * on this machine at all.
 */
export async function startOwnServer(): Promise<
  { server: OwnServer; unavailable?: undefined } | { server?: undefined; unavailable: string }
> {
  const e = env();
  const dir = mkdtempSync(path.join(tmpdir(), 'config-bot-own-'));
  try {
    const server = await startEmbedded({
      dataDir: dir,
      prefer: e.EMBEDDED_DB,
      ferretdbPath: e.FERRETDB_PATH,
      searchPath: e.PATH,
    });
    return {
      server: Object.assign(server, {
        async cleanup() {
          await server.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    if (err instanceof NoEmbeddedDatabaseError) return { unavailable: err.message };
    throw err;
  }
}

export type OwnServer = EmbeddedServer & { cleanup(): Promise<void> };

export interface OwnServerFixture {
  /** Undefined only when no embedded server can be started here (see `unavailable`). */
  readonly server: OwnServer | undefined;
  readonly unavailable: string | undefined;
  readonly db: TestDb;
  readonly svc: ConfigService;
}

/**
 * A server of this test file's own, which its tests may stop, kill and restart, with a database
 * and a ConfigService on it; opened before the tests, closed after them. Read the fields inside
 * tests, after `skipWithoutOwnServer`.
 */
export function useOwnServer(label: string): OwnServerFixture {
  const f = {} as {
    server: OwnServer | undefined;
    unavailable: string | undefined;
    db: TestDb;
    svc: ConfigService;
  };
  beforeAll(async () => {
    Object.assign(f, await startOwnServer());
    if (!f.server) return;
    f.db = await openTestDb(label, f.server.uri);
    f.svc = await openService(f.db);
  });
  afterAll(async () => {
    if (!f.server) return;
    await f.svc?.close();
    await f.db?.drop();
    await f.server.cleanup();
  });
  return f;
}

/**
 * Skips a fault test, printing why, when no embedded server can be started on this machine (the
 * only case: a shared MONGODB_URI server is never one a test may stop); else returns its server.
 */
export function skipWithoutOwnServer(
  f: { readonly server?: OwnServer | undefined; readonly unavailable?: string | undefined },
  ctx: TestContext,
  what: string,
): OwnServer {
  if (!f.server) {
    process.stderr.write(
      `${what} SKIPPED: it needs a database server of its own to stop, and ${f.unavailable}\n`,
    );
    ctx.skip();
  }
  return f.server as OwnServer;
}

export const actor = (id = '111111111111111111', tag = 'alice') => ({ id, tag });
