import path from 'node:path';
import type { Connection } from 'mongoose';
import type { DatabaseHealth } from '../db/health.js';
import type { Env } from '../env.js';
import { registry } from './registry.js';
import { ConfigService } from './service.js';

export { ConfigService } from './service.js';
export type { WriteResult, WriteSuccess, ConfigEntry, RequestContext } from './types.js';
export { registry } from './registry.js';

let instance: ConfigService | undefined;

/** The files a process keeps in DATA_DIR for one database (several databases may share it). */
export function localFiles(env: Env, database: string) {
  return {
    database,
    lastKnownGood: path.resolve(env.DATA_DIR, `last-known-good.${database}.json`),
    auditQueue: path.resolve(env.DATA_DIR, `audit-queue.${database}.json`),
  };
}

/** Creates the process-wide ConfigService; the caller starts it (init, or startFromCopy). */
export function createConfigService(
  conn: Connection,
  env: Env,
  opts: { health: DatabaseHealth; database: string },
): ConfigService {
  if (instance) throw new Error('The process-wide ConfigService exists already');
  instance = new ConfigService({
    registry,
    conn,
    health: opts.health,
    cacheTtlMs: env.CONFIG_CACHE_TTL_MS,
    writeRetries: env.CONFIG_WRITE_RETRIES,
    encryptionKeys: env.CONFIG_ENCRYPTION_KEYS,
    files: localFiles(env, opts.database),
  });
  return instance;
}

/** The process-wide ConfigService; createConfigService() must have run. */
export function configService(): ConfigService {
  if (!instance) throw new Error('ConfigService is not created: start the runtime first');
  return instance;
}

export async function closeConfigService(): Promise<void> {
  await instance?.close();
  instance = undefined;
}
