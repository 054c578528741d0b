import { LOG_LEVELS, setLogLevel, type LogLevel } from '../base/logger.js';
import type { ConfigService } from '../config/service.js';

/**
 * Keeps the process's logger at the LOG_LEVEL setting: applied now and on every change, from
 * whichever process made it. Returns the function that stops following.
 */
export function followLogLevel(config: ConfigService): () => void {
  const apply = (v: unknown) => {
    if (LOG_LEVELS.includes(v as LogLevel)) setLogLevel(v as LogLevel);
  };
  let current: unknown;
  try {
    current = config.get('LOG_LEVEL');
  } catch {
    return () => undefined; // a registry without LOG_LEVEL (tests, embedders): nothing to follow
  }
  apply(current);
  // The value in force, not the stored one: CONFIG_OVERRIDE_LOG_LEVEL wins over stored changes.
  return config.subscribe(['LOG_LEVEL'], () => apply(config.get('LOG_LEVEL')));
}
