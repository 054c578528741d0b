import winston from 'winston';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** An API token's secret part (`cfgbot_<id>_<secret>`), or anything after the prefix when malformed. */
const TOKEN_SECRET = /cfgbot_([0-9a-f]{10}_)?[A-Za-z0-9_-]*/g;

/** Text with every API token's secret replaced (the id before it stays: it names the token, it opens nothing). */
export function redactSecrets(text: string): string {
  return text.replace(TOKEN_SECRET, (_m, id: string | undefined) => `cfgbot_${id ?? ''}[redacted]`);
}

function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.includes('cfgbot_') ? redactSecrets(value) : value;
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  if (value instanceof Error) return redactSecrets(value.stack ?? value.message);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
  return out;
}

/**
 * No API token reaches a log, whatever the level or the transport: a URL with `?token=`, a header
 * or a body quoted in an error message is logged with the secret replaced.
 */
const redact = winston.format((info) => {
  for (const key of Object.keys(info)) info[key] = redactDeep(info[key]);
  return info;
});

/**
 * Drops a line below the logger's level before any other format runs: winston formats every line
 * it is given and leaves the level to its transports, so a debug line per API request cost a
 * timestamp, colours and a redaction at every level (about a sixth of what a read allocated).
 */
const enabled = winston.format((info) => (logger.isLevelEnabled(info.level) ? info : false));

const human = winston.format.combine(
  enabled(),
  redact(),
  winston.format.colorize(),
  winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
  // Stack traces are for whoever debugs (LOG_LEVEL=debug), not for the operator reading a terminal.
  winston.format.printf(({ timestamp, level, message, stack, ...meta }) => {
    const extra = logger.level === 'debug' && stack ? { ...meta, stack } : meta;
    const rest = Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : '';
    return `${String(timestamp)} ${level} ${String(message)}${rest}`;
  }),
);

const json = winston.format.combine(
  enabled(),
  redact(),
  winston.format.timestamp(),
  winston.format.errors({ stack: true }),
  winston.format.json(),
);

/**
 * The one logger. Starts at `info` with readable lines; the LOG_LEVEL configuration key takes over
 * once the configuration is loaded (see ConfigService), so the level can change without a restart.
 * It reads no environment itself: importing it can never fail, so a bad environment is reported
 * by the entry point as plain lines, not as a crash during imports.
 */
export const logger = winston.createLogger({
  level: 'info',
  levels: winston.config.npm.levels,
  format: human,
  // stderr keeps stdout free for what scripts print (JSON output of the console, dry runs).
  transports: [
    new winston.transports.Console({
      stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
    }),
  ],
});

/** JSON lines for a log collector (NODE_ENV=production); called once by the entry point. */
export function useJsonLogs(): void {
  logger.format = json;
}

export function setLogLevel(level: LogLevel): void {
  logger.level = level;
  for (const t of logger.transports) t.level = level;
}

/** Flattens an unknown thrown value for a log line. */
export function errorDetail(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: err.message, name: err.name, stack: err.stack };
  return { error: String(err) };
}
