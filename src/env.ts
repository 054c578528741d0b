import { z } from 'zod';
import { parseEncryptionKey } from './config/codec.js';

/** Treat `FOO=` like an unset variable, as people do when they copy .env.example. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const withDefault = <T extends z.ZodType>(schema: T, fallback: z.util.NoUndefined<z.output<T>>) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.default(fallback));

const snowflake = z.string().regex(/^\d{15,21}$/, 'must be a Discord id (15-21 digits)');
const snowflakeList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(snowflake));

const envSchema = z.object({
  /** development: readable logs; production: JSON lines for a log collector. */
  NODE_ENV: withDefault(z.enum(['development', 'production', 'test']), 'development'),
  /** Where the configuration lives. Unset: an embedded database keeping its files in DATA_DIR. */
  MONGODB_URI: optional(
    z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://'),
  ),
  /** Database name used when the URI names none. */
  MONGODB_DB_NAME: withDefault(z.string().regex(/^[A-Za-z0-9_-]{1,63}$/), 'config_bot'),
  /** Where the embedded database keeps its files. */
  DATA_DIR: withDefault(z.string(), './data'),
  /** Which embedded database to start when MONGODB_URI is unset. */
  EMBEDDED_DB: withDefault(z.enum(['auto', 'mongodb-memory-server', 'ferretdb']), 'auto'),
  /** Path to a ferretdb binary; otherwise ./.tools/bin, then PATH are searched. */
  FERRETDB_PATH: optional(z.string()),
  /** Searched for a ferretdb binary. */
  PATH: withDefault(z.string(), ''),
  /** How long a write waits for an unreachable database before failing (keeps replies fast). */
  DB_TIMEOUT_MS: withDefault(z.coerce.number().int().min(500).max(60_000), 3000),
  /** Safety-net refresh of the in-memory cache; changes reach the cache at once without it. */
  CONFIG_CACHE_TTL_MS: withDefault(z.coerce.number().int().min(1000), 300_000),
  /** The bot's token (Discord developer portal > your application > Bot). Not needed by the offline console. */
  DISCORD_TOKEN: optional(z.string().min(50, 'does not look like a bot token')),
  /** The application id; derived from the token when unset. */
  DISCORD_CLIENT_ID: optional(snowflake),
  /** The home server: commands are registered there, and it is the only allowed one by default. */
  DISCORD_GUILD_ID: optional(snowflake),
  /** Servers allowed to use the bot (comma-separated). Unset: DISCORD_GUILD_ID alone. */
  ALLOWED_GUILD_IDS: optional(snowflakeList),
  /** Roles whose members may change configuration without being server administrators. */
  ADMIN_ROLE_IDS: withDefault(snowflakeList, []),
  /** How long Confirm/Cancel buttons of rollback and reset stay usable. */
  CONFIRM_TIMEOUT_MS: withDefault(z.coerce.number().int().min(1000).max(600_000), 60_000),
  /** How often each process checks for changes made by other processes (when change streams are unavailable). */
  CONFIG_POLL_INTERVAL_MS: withDefault(z.coerce.number().int().min(50).max(60_000), 500),
  /** Where the daily export writes its files (one folder per date). */
  EXPORT_DIR: withDefault(z.string(), './exports'),
  /** Channel that receives the daily export summary with its files. Unset: no post. */
  EXPORT_CHANNEL_ID: optional(snowflake),
  /** Channel that receives job failure alerts. Unset: failures are only logged and recorded. */
  ALERT_CHANNEL_ID: optional(snowflake),
  /** Encrypts sensitive keys at rest (AES-256-GCM): 32 bytes as base64 or hex. Required when a key is sensitive. */
  CONFIG_ENCRYPTION_KEY: optional(
    z.string().transform((s, ctx) => {
      try {
        return parseEncryptionKey(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  ),
  /** Writes (set, rollback, reset) one Discord user may make per minute, across every bot process. */
  WRITE_RATE_LIMIT_PER_MIN: withDefault(z.coerce.number().int().min(1).max(10_000), 10),
  /** How often a writer that lost a race retries from fresh state before giving up. */
  CONFIG_WRITE_RETRIES: withDefault(z.coerce.number().int().min(0).max(50), 8),
});

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

/** Parses an environment; every problem is collected and reported together, each with its variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  throw new EnvError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
}

let cached: Env | undefined;

/** The process environment, parsed once. */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
