import { ConnectionString } from 'mongodb-connection-string-url';
import { z } from 'zod';
import { KeyFormatError, parsePublicKeys, parseSigningKey, type TrustedKey } from '../audit/signing.js';
import { parseEncryptionKey } from '../storage/codec.js';
import { redactUri } from '../storage/connection.js';
import { parseOverrides, type EnvOverride } from '../config/env-overrides.js';
import { IMPACT_LEVELS, registry, type ImpactLevel } from '../config/registry.js';
import { ENVIRONMENT_NAME, nearestEnvironment } from '../config/scopes.js';
type Ctx = z.core.$RefinementCtx<string | undefined>;

/** Adds one problem worded for a person ("`abc` is not a Discord id"), never zod's own wording. */
function problem(ctx: Ctx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
}

/** What was typed, quoted and cut short, for a problem line. Secrets are never passed here. */
const quote = (s: string) => `\`${s.length > 60 ? `${s.slice(0, 60)}…` : s}\``;

/** A variable read from text; `FOO=` (as copied from .env.example) counts as unset. */
function variable<T>(parse: (text: string, ctx: Ctx) => T) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const text = raw?.trim();
      return text ? parse(text, ctx) : undefined;
    });
}

function withDefault<T>(parse: (text: string, ctx: Ctx) => T, fallback: T) {
  return variable(parse).transform((v) => (v === undefined ? fallback : v));
}

const wholeNumber =
  (min: number, max: number, unit: string) =>
  (s: string, ctx: Ctx): number => {
    if (!/^\d+$/.test(s)) return problem(ctx, `${quote(s)} is not a whole number of ${unit} (${min}-${max})`);
    const n = Number(s);
    if (n < min || n > max) return problem(ctx, `${n} is out of range: use ${min}-${max} ${unit}`);
    return n;
  };

const oneOf =
  <const T extends readonly string[]>(values: T) =>
  (s: string, ctx: Ctx): T[number] =>
    values.find((v) => v === s) ?? problem(ctx, `${quote(s)} is not one of ${values.join(', ')}`);

const environmentNames = (s: string, ctx: Ctx): string[] => {
  const names = s
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
  const bad = names.filter((n) => !ENVIRONMENT_NAME.test(n));
  if (bad.length)
    return problem(
      ctx,
      `${bad.map(quote).join(', ')}: environment names are lower-case letters, digits and dashes, starting with a letter (comma-separated)`,
    );
  if (new Set(names).size !== names.length) return problem(ctx, 'an environment is named twice');
  return names;
};

const SNOWFLAKE = /^\d{15,21}$/;
const discordId = (s: string, ctx: Ctx): string =>
  SNOWFLAKE.test(s) ? s : problem(ctx, `${quote(s)} is not a Discord id (15-21 digits)`);

const discordIds = (s: string, ctx: Ctx): string[] => {
  const ids = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = ids.filter((id) => !SNOWFLAKE.test(id));
  if (bad.length)
    return problem(
      ctx,
      `${bad.map(quote).join(', ')} ${bad.length > 1 ? 'are not Discord ids' : 'is not a Discord id'} (15-21 digits, comma-separated)`,
    );
  return ids;
};

const anyText = (s: string) => s;

/** A key from its text (src/audit/signing.ts); the secret is never repeated in a problem line. */
const keyText =
  <T>(parse: (text: string) => T) =>
  (s: string, ctx: Ctx): T => {
    try {
      return parse(s);
    } catch (err) {
      return problem(ctx, err instanceof KeyFormatError ? err.message : 'is not a usable Ed25519 key');
    }
  };

/** Minutes between audit checkpoints: a divisor of 60, so they fall at the same minutes each hour. */
const checkpointMinutes = (s: string, ctx: Ctx): number => {
  const n = Number(s);
  return /^\d+$/.test(s) && n >= 1 && n <= 60 && 60 % n === 0
    ? n
    : problem(ctx, `${quote(s)} is not a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60 minutes)`);
};

/** `high:1,critical:2`: approvals each impact level needs (levels not named need none); `none`: no approvals. */
const approvalCounts = (s: string, ctx: Ctx): Partial<Record<ImpactLevel, number>> => {
  const out: Partial<Record<ImpactLevel, number>> = {};
  if (s.trim().toLowerCase() === 'none') return out;
  for (const part of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+)\s*:\s*(\d{1,2})$/.exec(part.toLowerCase());
    const level = IMPACT_LEVELS.find((l) => l === m?.[1]);
    if (!m || !level)
      return problem(
        ctx,
        `${quote(part)} is not level:count; use levels ${IMPACT_LEVELS.join(', ')} with a count of approvals, e.g. high:1,critical:2`,
      );
    out[level] = Number(m[2]);
  }
  return out;
};

/** `24h`, `90m`, `2d`: a duration of at least a minute and at most 30 days. */
const durationText = (s: string, ctx: Ctx): number => {
  const m = /^(\d{1,6})\s*(m|h|d)$/.exec(s.toLowerCase());
  const ms = m ? Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'] : NaN;
  if (!(ms >= 60_000 && ms <= 30 * 86_400_000))
    return problem(ctx, `${quote(s)} is not a duration from 1m to 30d (like 90m, 24h, 2d)`);
  return ms;
};

/** A MongoDB connection string; the password is never repeated in a problem line. */
const mongoUri = (s: string, ctx: Ctx): string => {
  try {
    new ConnectionString(s);
    return s;
  } catch {
    return problem(
      ctx,
      `${quote(redactUri(s))} is not a MongoDB connection string: use mongodb://host:27017/db or mongodb+srv://...`,
    );
  }
};

/** Bot tokens are three base64url parts separated by dots (about 70 characters); never echoed. */
const botToken = (s: string, ctx: Ctx): string =>
  /^[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}$/.test(s)
    ? s
    : problem(
        ctx,
        `does not look like a bot token (three parts separated by dots, about 70 characters): copy it from the Developer Portal > your application > Bot > Reset Token`,
      );

const httpUrl = (s: string, ctx: Ctx): string => {
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:') return s.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  return problem(ctx, `${quote(s)} is not an http(s) URL`);
};

/** Encryption keys are secrets: a problem names which key is wrong, never its text. */
const encryptionKeys = (s: string, ctx: Ctx): Buffer[] => {
  const parts = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const keys: Buffer[] = [];
  parts.forEach((p, i) => {
    try {
      keys.push(parseEncryptionKey(p));
    } catch (err) {
      const which = parts.length > 1 ? `key ${i + 1} of ${parts.length} ` : '';
      ctx.addIssue({ code: 'custom', message: `${which}${(err as Error).message}` });
    }
  });
  return keys;
};

const envSchema = z
  .object({
    /** development: readable logs; production: JSON lines for a log collector. */
    NODE_ENV: withDefault(oneOf(['development', 'production', 'test'] as const), 'development'),
    /** Where the configuration lives. Unset: an embedded database keeping its files in DATA_DIR. */
    MONGODB_URI: variable(mongoUri),
    /** Database name used when MONGODB_URI names none (the database a URI names always wins). */
    MONGODB_DB_NAME: withDefault(
      (s, ctx) =>
        /^[A-Za-z0-9_-]{1,63}$/.test(s)
          ? s
          : problem(ctx, `${quote(s)} is not a database name (letters, digits, _ and -, at most 63)`),
      'config_bot',
    ),
    /** Where the embedded database, the last-known-good copy and queued audit rows are kept. */
    DATA_DIR: withDefault(anyText, './data'),
    /** Which embedded database to start when MONGODB_URI is unset. */
    EMBEDDED_DB: withDefault(oneOf(['auto', 'mongodb-memory-server', 'ferretdb'] as const), 'auto'),
    /** Path to a ferretdb binary; otherwise ./.tools/bin, then PATH are searched. */
    FERRETDB_PATH: variable(anyText),
    /** Searched for a ferretdb binary. */
    PATH: withDefault(anyText, ''),
    /** How long an operation waits for an unreachable database before failing (keeps replies fast). */
    DB_TIMEOUT_MS: withDefault(wholeNumber(500, 60_000, 'milliseconds'), 3000),
    /** Safety-net refresh of the in-memory cache; changes reach the cache at once without it. */
    CONFIG_CACHE_TTL_MS: withDefault(wholeNumber(1000, 86_400_000, 'milliseconds'), 300_000),
    /** The bot's token (Discord developer portal > your application > Bot). Not needed by the offline console. */
    DISCORD_TOKEN: variable(botToken),
    /** The application id; derived from the token when unset. */
    DISCORD_CLIENT_ID: variable(discordId),
    /** The home server: commands are registered there, and it is the only allowed one by default. */
    DISCORD_GUILD_ID: variable(discordId),
    /** Servers allowed to use the bot (comma-separated). Unset: DISCORD_GUILD_ID alone. */
    ALLOWED_GUILD_IDS: variable(discordIds),
    /** Roles whose members may change configuration without being server administrators. */
    ADMIN_ROLE_IDS: withDefault(discordIds, [] as string[]),
    /**
     * Discord's REST API base, for deployments that send it through a rate-limit proxy
     * (nirn-proxy, twilight-http-proxy), e.g. http://localhost:8080/api. Unset: Discord itself.
     */
    DISCORD_API_URL: variable(httpUrl),
    /**
     * The application's OAuth2 secret (Developer Portal > your application > OAuth2): with
     * DISCORD_CLIENT_ID, the web panel offers "Log in with Discord". Add PANEL_URL/panel/oauth/callback
     * to the application's redirects.
     */
    DISCORD_CLIENT_SECRET: variable((s, ctx) =>
      /^[A-Za-z0-9_-]{16,64}$/.test(s) ? s : problem(ctx, 'does not look like an OAuth2 client secret'),
    ),
    /** Discord's web address for OAuth2 (a Discord-shaped server in tests). */
    DISCORD_OAUTH_URL: withDefault(httpUrl, 'https://discord.com'),
    /** How long Confirm/Cancel buttons of rollback and reset stay usable. */
    CONFIRM_TIMEOUT_MS: withDefault(wholeNumber(1000, 600_000, 'milliseconds'), 60_000),
    /** How often each process reads what others committed (when no change stream says when). */
    CONFIG_POLL_INTERVAL_MS: withDefault(wholeNumber(20, 60_000, 'milliseconds'), 55),
    /** `auto`: a change stream where `hello` shows a replica set or cluster; `on`: try anyway. */
    CONFIG_CHANGE_STREAM: withDefault(oneOf(['auto', 'on', 'off'] as const), 'auto'),
    /** Where the daily export writes its files (one folder per date). */
    EXPORT_DIR: withDefault(anyText, './exports'),
    /** Channel that receives the daily export summary with its files. Unset: no post. */
    EXPORT_CHANNEL_ID: variable(discordId),
    /** Channel that receives job failure alerts. Unset: failures are only logged and recorded. */
    ALERT_CHANNEL_ID: variable(discordId),
    /**
     * Keys that encrypt sensitive values at rest (AES-256-GCM), comma-separated, each 32 bytes as
     * base64 or hex. New values are encrypted with the first; stored ones are read with whichever
     * wrote them, so a new key goes first and the old one stays listed until
     * `npm run rotate-encryption-key` has re-encrypted everything.
     */
    CONFIG_ENCRYPTION_KEYS: variable(encryptionKeys),
    /** The one-key form of CONFIG_ENCRYPTION_KEYS (kept for existing deployments). */
    CONFIG_ENCRYPTION_KEY: variable(encryptionKeys),
    /**
     * Signs the audit chain's checkpoints (Ed25519: the base64 of a 32-byte seed, or a PEM private
     * key); `npm run audit:verify -- --new-key` makes one. Its public half is printed at start and
     * shown in /config status. Unset: the chain still shows edits, deletions and insertions, but
     * not a rewrite of the whole chain.
     */
    AUDIT_SIGNING_KEY: variable(keyText(parseSigningKey)),
    /** Public keys (base64, comma-separated) of earlier signing keys, whose checkpoints stay trusted. */
    AUDIT_TRUSTED_KEYS: withDefault(keyText(parsePublicKeys), [] as TrustedKey[]),
    /** Minutes between signed audit checkpoints (a divisor of 60). */
    AUDIT_CHECKPOINT_MINUTES: withDefault(checkpointMinutes, 15),
    /** Changes (committed set, rollback, reset) one Discord user may make per minute, across every bot process. */
    WRITE_RATE_LIMIT_PER_MIN: withDefault(wholeNumber(1, 10_000, 'changes a minute'), 10),
    /** Write attempts, refused ones included, one Discord user may make per minute (stops floods of typos or probes). */
    WRITE_ATTEMPTS_PER_MIN: withDefault(wholeNumber(1, 10_000, 'attempts a minute'), 30),
    /** How often a writer that lost a race retries from fresh state before giving up. */
    CONFIG_WRITE_RETRIES: withDefault(wholeNumber(0, 50, 'retries'), 8),
    /**
     * How long a lease holder (a job run, an export) may go without a heartbeat before another
     * process takes the lease over: a holder that died never blocks a job for longer.
     */
    LEASE_TTL_MS: withDefault(wholeNumber(1000, 3_600_000, 'milliseconds'), 60_000),
    /**
     * Port of the HTTP API and the web panel (docs/api.md, docs/panel.md). Unset: a bot connected to
     * Discord serves neither (`npm run api`, and `npm start` without DISCORD_TOKEN, use 8080).
     */
    HTTP_PORT: variable((s, ctx) =>
      /^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65_535
        ? Number(s)
        : problem(ctx, `${quote(s)} is not a port number (1-65535)`),
    ),
    /** Address the HTTP API listens on; loopback unless it is meant to be reached from other machines. */
    HTTP_HOST: withDefault(anyText, '127.0.0.1'),
    /** API requests one token may make per minute. */
    API_RATE_LIMIT_PER_MIN: withDefault(wholeNumber(1, 1_000_000, 'requests per minute'), 6000),
    /**
     * Write requests one API token may make per minute, refused ones included, across every API
     * process: apart from API_RATE_LIMIT_PER_MIN, as Discord users have WRITE_ATTEMPTS_PER_MIN.
     */
    API_WRITES_PER_MIN: withDefault(wholeNumber(1, 1_000_000, 'writes per minute'), 60),
    /**
     * The web panel's address as browsers reach it (its login links point there, and a change is
     * accepted only from that origin); default http://HTTP_HOST:HTTP_PORT. https:// makes its
     * session cookie Secure.
     */
    PANEL_URL: variable((s, ctx) => {
      try {
        const u = new URL(s);
        if (u.protocol === 'http:' || u.protocol === 'https:') return u.origin;
      } catch {
        // said below
      }
      return problem(ctx, `${quote(s)} is not an http:// or https:// address`);
    }),
    /** A panel session unused for this many minutes ends. */
    PANEL_SESSION_IDLE_MIN: withDefault(wholeNumber(1, 10_080, 'minutes'), 30),
    /** A panel session ends this many hours after login, however it is used. */
    PANEL_SESSION_MAX_HOURS: withDefault(wholeNumber(1, 720, 'hours'), 12),
    /** Requests with a bad or missing token one address may make per minute before it gets 429. */
    API_AUTH_FAILURES_PER_MIN: withDefault(wholeNumber(1, 100_000, 'requests per minute'), 30),
    /** How often each process reports which change it has applied (it also reports at once after one). */
    INSTANCE_REPORT_MS: withDefault(wholeNumber(500, 600_000, 'milliseconds'), 5000),
    /** A process not heard from for this long is shown as gone (and forgotten after a day). */
    INSTANCE_GONE_MS: withDefault(wholeNumber(1000, 86_400_000, 'milliseconds'), 30_000),
    /**
     * A release flag fully on or fully off and unchanged for this many days is marked stale in
     * /flag list: time to remove it from the code.
     */
    FLAG_STALE_DAYS: withDefault(wholeNumber(1, 3650, 'days'), 30),
    /**
     * Approvals a change needs, by the impact level of the key it touches (`level:count`, comma
     * separated). A change that needs any becomes a change request that other admins approve.
     */
    APPROVALS_REQUIRED: withDefault(approvalCounts, { high: 1, critical: 2 }),
    /** Channel where change requests are posted with Approve / Reject / Details buttons. */
    APPROVAL_CHANNEL_ID: variable(discordId),
    /** How long a change request stays open before it expires (1m-30d). */
    APPROVAL_TTL: withDefault(durationText, 86_400_000),
    /** The environments the application is deployed in (comma-separated): values can differ per environment. */
    ENVIRONMENTS: withDefault(environmentNames, ['production']),
    /** The environment this process serves (one of ENVIRONMENTS). Default: the first declared. */
    APP_ENVIRONMENT: variable((s) => s.toLowerCase()),
  })
  .transform((e, ctx) => {
    if (e.CONFIG_ENCRYPTION_KEYS && e.CONFIG_ENCRYPTION_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['CONFIG_ENCRYPTION_KEY'],
        message: 'set only CONFIG_ENCRYPTION_KEYS (CONFIG_ENCRYPTION_KEY is its one-key form)',
      });
      return z.NEVER;
    }
    const appEnvironment = e.APP_ENVIRONMENT ?? e.ENVIRONMENTS[0] ?? 'production';
    if (!e.ENVIRONMENTS.includes(appEnvironment)) {
      const near = nearestEnvironment(e.ENVIRONMENTS, appEnvironment);
      ctx.addIssue({
        code: 'custom',
        path: ['APP_ENVIRONMENT'],
        message: `${quote(appEnvironment)} is not one of ENVIRONMENTS (${e.ENVIRONMENTS.join(', ')})${near ? `; did you mean ${near}?` : ''}`,
      });
      return z.NEVER;
    }
    const { CONFIG_ENCRYPTION_KEY, CONFIG_ENCRYPTION_KEYS, ...rest } = e;
    return {
      ...rest,
      APP_ENVIRONMENT: appEnvironment,
      CONFIG_ENCRYPTION_KEYS: CONFIG_ENCRYPTION_KEYS ?? CONFIG_ENCRYPTION_KEY ?? [],
    };
  });

export type Env = z.output<typeof envSchema> & {
  /**
   * CONFIG_OVERRIDE_<KEY>=value: settings this process uses whatever is stored (emergencies while
   * the database is unreachable, local development), parsed by each key's own rules.
   */
  CONFIG_OVERRIDES: EnvOverride[];
};

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'EnvError';
  }
}

/**
 * Parses an environment. Every problem is collected and reported together, one line each,
 * naming its variable and what is expected.
 */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  const { overrides, problems } = parseOverrides(source, registry);
  if (result.success && !problems.length) return { ...result.data, CONFIG_OVERRIDES: overrides };
  const schemaProblems = result.success
    ? []
    : result.error.issues.map((i) => `${String(i.path[0] ?? 'environment')}: ${i.message}`);
  throw new EnvError([...schemaProblems, ...problems]);
}

let cached: Env | undefined;

/** The process environment, parsed once. */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
