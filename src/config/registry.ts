import type { ValueKind } from './kinds.js';
import type { ScopeKind } from './scopes.js';
import { boolean, decimal, integer, oneOf, optional, timeOfDay, timeZone, url, withRule } from './kinds.js';

export const CATEGORIES = ['export', 'ai', 'system'] as const;

/** How much harm a wrong value can do; APPROVALS_REQUIRED says how many approvals each level needs. */
export const IMPACT_LEVELS = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type ImpactLevel = (typeof IMPACT_LEVELS)[number];
export type Category = (typeof CATEGORIES)[number];

export interface KeyDefinition<T = unknown> extends ValueKind<T> {
  readonly category: Category;
  readonly description: string;
  readonly default: T;
  /** Soft limits: the value is stored, and the admin is told why it may be a bad idea. */
  warnings?(value: T): string[];
  /** Never shown or logged in clear text. */
  readonly sensitive: boolean;
  /** Stored at once but only read at start-up. */
  readonly requiresRestart: boolean;
  /** Where the key may hold a value (see scopes.ts). Default: global only. */
  readonly scopes?: readonly ScopeKind[];
  /**
   * For a key that allows the guild scope: an Administrator of any server the bot is in (not only
   * ALLOWED_GUILD_IDS) may view, set, reset and roll back its value for that server, and nothing
   * else. Off unless declared.
   */
  readonly guildSelfService?: boolean;
  /**
   * For a JSON object key: an override (env or guild) holds only the fields it changes, and the
   * value in force is the deep merge of the layers, checked as a whole.
   */
  readonly merge?: 'deep';
  /** Default `low`. A change of a key whose level needs approvals becomes a change request. */
  readonly impact?: ImpactLevel;
}

type Spec<T> = Omit<KeyDefinition<T>, 'sensitive' | 'requiresRestart' | keyof ValueKind<T>> & {
  kind: ValueKind<T>;
  sensitive?: boolean;
  requiresRestart?: boolean;
};

function key<T>(spec: Spec<T>): KeyDefinition<T> {
  const { kind, ...rest } = spec;
  return { ...kind, sensitive: false, requiresRestart: false, ...rest };
}

const hourOf = (hhmm: string) => Number(hhmm.slice(0, 2));

/**
 * Every configuration key, declared once. To add one: add an entry here with a kind from
 * ./kinds.ts (or withRule for extra limits) and a default; it is seeded as version 1 at next
 * start and appears in /config at once. Names are UPPER_SNAKE.
 */
const definitions = {
  DAILY_EXPORT_TIME: key({
    impact: 'medium',
    category: 'export',
    description: 'Time of day the daily export runs (24-hour HH:MM, in SCHEDULE_TIMEZONE).',
    kind: withRule(
      timeOfDay(),
      (t) =>
        t < '06:00' || t > '22:00' ? `Export time must be between 06:00 and 22:00; got ${t}` : undefined,
      'time HH:MM (24-hour) from 06:00 to 22:00',
    ),
    default: '18:00',
    scopes: ['global', 'env'],
    warnings: (t) => {
      const h = hourOf(t);
      return h >= 9 && h <= 17
        ? [
            `${t} is during business hours (09:00-17:59): the export will compete with daytime load. Off-peak 18:00-22:00 is better.`,
          ]
        : [];
    },
  }),
  AI_CONFIDENCE_THRESHOLD: key({
    impact: 'high',
    category: 'ai',
    description: 'Minimum model confidence for a prediction to be accepted without manual review.',
    kind: decimal({
      min: 0.5,
      max: 1,
      minReason: 'below that the system would accept unreliable predictions',
    }),
    default: 0.85,
    scopes: ['global', 'env', 'guild'],
    // Set to true to let the admins of every server the bot is in tune it for their own server.
    guildSelfService: false,
    warnings: (n) =>
      n > 0.95
        ? [`${n} is above 0.95: most predictions will go to manual review, expect excessive review load.`]
        : [],
  }),
  MAX_BATCH_SIZE: key({
    impact: 'medium',
    category: 'export',
    description: 'Largest number of rows processed (and written per export file) in one batch.',
    kind: integer({ min: 1, max: 1000, maxReason: 'larger batches risk running out of memory' }),
    default: 100,
    scopes: ['global', 'env', 'guild'],
    warnings: (n) =>
      n < 10 ? [`${n} is a very small batch: exports will be slow and make many files.`] : [],
  }),
  IMMEDIATE_EXPORT_BUFFER: key({
    impact: 'low',
    category: 'export',
    description: 'Minutes to wait before an immediate export runs, to collect late changes.',
    kind: integer({ min: 0, max: 120, unit: 'minutes' }),
    default: 30,
    scopes: ['global', 'env'],
  }),
  LOG_LEVEL: key({
    impact: 'low',
    category: 'system',
    description: 'How much the bot logs. Takes effect at once.',
    kind: oneOf(['error', 'warn', 'info', 'debug']),
    default: 'info',
    scopes: ['global', 'env'],
  }),
  MAINTENANCE_MODE: key({
    impact: 'medium',
    category: 'system',
    description: 'When true, scheduled jobs are paused.',
    kind: boolean(),
    default: false,
    scopes: ['global', 'env'],
  }),
  EXPORT_WEBHOOK_URL: key({
    impact: 'medium',
    category: 'export',
    description:
      'HTTPS webhook the daily export POSTs its summary to as JSON (a secret: stored encrypted, never shown). Plain http only to localhost.',
    kind: optional(url({ protocols: ['https:'], loopbackHttp: true })),
    default: null,
    sensitive: true,
  }),
  SCHEDULE_TIMEZONE: key({
    impact: 'high',
    category: 'system',
    description: 'IANA time zone used by every scheduled job.',
    kind: timeZone(),
    default: 'UTC',
    scopes: ['global', 'env'],
  }),
};

type Definitions = typeof definitions;
export type ConfigKey = keyof Definitions;
/** The typed value of every key, e.g. ConfigValues['MAX_BATCH_SIZE'] is number. */
export type ConfigValues = { [K in ConfigKey]: Definitions[K]['default'] };

export interface RegisteredKey<T = unknown> extends KeyDefinition<T> {
  readonly key: string;
  readonly scopes: readonly ScopeKind[];
  readonly impact: ImpactLevel;
}

export type Registry = ReadonlyMap<string, RegisteredKey>;

/** Builds a registry from declarations keyed by name (tests and teams build their own). */
export function buildRegistry(defs: Record<string, KeyDefinition>): Registry {
  const map = new Map<string, RegisteredKey>();
  for (const [name, def] of Object.entries(defs)) {
    if (!KEY_PATTERN.test(name)) throw new Error(`Registry key ${name} is not UPPER_SNAKE (${KEY_PATTERN})`);
    if (def.merge === 'deep' && def.type !== 'JSON object')
      throw new Error(`Registry key ${name}: merge 'deep' needs a jsonObject kind (it is ${def.type})`);
    map.set(name, { ...def, key: name, scopes: def.scopes ?? ['global'], impact: def.impact ?? 'low' });
  }
  return map;
}

export const KEY_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

export const registry: Registry = buildRegistry(definitions);
