import winston from 'winston';
import { env } from './env.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const human = winston.format.combine(
  winston.format.colorize(),
  winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
  winston.format.printf(({ timestamp, level, message, ...meta }) => {
    const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
    return `${String(timestamp)} ${level} ${String(message)}${rest}`;
  }),
);

const json = winston.format.combine(
  winston.format.timestamp(),
  winston.format.errors({ stack: true }),
  winston.format.json(),
);

/**
 * The one logger. Starts at `info`; the LOG_LEVEL configuration key takes over once the
 * configuration is loaded (see ConfigService), so the level can change without a restart.
 */
export const logger = winston.createLogger({
  level: 'info',
  levels: winston.config.npm.levels,
  format: env().NODE_ENV === 'production' ? json : human,
  // stderr keeps stdout free for what scripts print (JSON output of the console, dry runs).
  transports: [
    new winston.transports.Console({
      stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
    }),
  ],
});

export function setLogLevel(level: LogLevel): void {
  logger.level = level;
  for (const t of logger.transports) t.level = level;
}

/** Flattens an unknown thrown value for a log line. */
export function errorDetail(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: err.message, name: err.name, stack: err.stack };
  return { error: String(err) };
}
