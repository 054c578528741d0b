import type { Connection } from 'mongoose';
import type { Env } from '../env.js';
import { registry } from './registry.js';
import { ConfigService } from './service.js';

export { ConfigService } from './service.js';
export type { WriteResult, WriteSuccess, ConfigEntry, RequestContext } from './service.js';
export { registry } from './registry.js';

let instance: ConfigService | undefined;

/** Creates and initialises the process-wide ConfigService. */
export async function initConfigService(conn: Connection, env: Env): Promise<ConfigService> {
  if (instance) return instance;
  const service = new ConfigService({
    registry,
    conn,
    cacheTtlMs: env.CONFIG_CACHE_TTL_MS,
    writeRetries: env.CONFIG_WRITE_RETRIES,
    ...(env.CONFIG_ENCRYPTION_KEY ? { encryptionKey: env.CONFIG_ENCRYPTION_KEY } : {}),
  });
  await service.init();
  instance = service;
  return service;
}

/** The process-wide ConfigService; initConfigService() must have run. */
export function configService(): ConfigService {
  if (!instance) throw new Error('ConfigService is not initialised: call initConfigService() at start-up');
  return instance;
}

export async function closeConfigService(): Promise<void> {
  await instance?.close();
  instance = undefined;
}
