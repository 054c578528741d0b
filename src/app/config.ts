import path from 'node:path';
import type { DbConnection } from '../storage/connection.js';
import type { DatabaseHealth } from '../storage/health.js';
import type { Env } from './env.js';
import { registry } from '../config/registry.js';
import { ConfigService } from '../config/service.js';

export { ConfigService } from '../config/service.js';
export type { WriteSuccess, ConfigEntry, RequestContext } from '../config/types.js';
export { registry } from '../config/registry.js';

/** The files a process keeps in DATA_DIR for one database (several databases may share it). */
export function localFiles(env: Env, database: string) {
  return {
    database,
    lastKnownGood: path.resolve(env.DATA_DIR, `last-known-good.${database}.json`),
    auditQueue: path.resolve(env.DATA_DIR, `audit-queue.${database}.json`),
    /** The API's last-known copy of the active tokens (ids and hashes, never a secret). */
    apiTokens: path.resolve(env.DATA_DIR, `api-tokens.${database}.json`),
  };
}

/** Creates a process's ConfigService from the environment; the caller starts it (init, or startFromCopy) and closes it. */
export function createConfigService(
  conn: DbConnection,
  env: Env,
  opts: { health: DatabaseHealth; database: string },
): ConfigService {
  return new ConfigService({
    registry,
    conn,
    health: opts.health,
    writeRetries: env.CONFIG_WRITE_RETRIES,
    encryptionKeys: env.CONFIG_ENCRYPTION_KEYS,
    files: localFiles(env, opts.database),
    overrides: env.CONFIG_OVERRIDES,
    environments: env.ENVIRONMENTS,
    environment: env.APP_ENVIRONMENT,
    approvals: env.APPROVALS_REQUIRED,
    approvalTtlMs: env.APPROVAL_TTL,
    auditKeys: {
      ...(env.AUDIT_SIGNING_KEY ? { signing: env.AUDIT_SIGNING_KEY } : {}),
      trusted: env.AUDIT_TRUSTED_KEYS,
    },
  });
}
