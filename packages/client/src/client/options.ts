import { basename } from 'node:path';
import { keyName } from './memory.js';
import type { ConfigClientOptions } from './types.js';

/** setTimeout's limit: a longer delay fires at once (after a TimeoutOverflowWarning). */
const MAX_DELAY_MS = 2_147_483_647;

/** The options with their defaults, checked. */
export interface ResolvedOptions {
  url: string;
  token: string;
  env: string | null;
  guild: string | null;
  /** Upper-cased as the API spells them, unique and sorted; null for every key. */
  keys: string[] | null;
  cacheFile: string | undefined;
  name: string;
  version: string | undefined;
  reportIntervalMs: number;
  backoff: { minMs: number; maxMs: number };
  idleTimeoutMs: number;
  requestTimeoutMs: number;
  fetch: typeof fetch;
}

/**
 * Applies the defaults and checks every option, throwing one TypeError that names each wrong one:
 * a delay of 0, a negative one or NaN would turn a retry or report loop into a busy loop.
 */
export function resolveOptions(options: ConfigClientOptions): ResolvedOptions {
  const problems: string[] = [];
  if (!isHttpUrl(options.url)) problems.push('`url` must be an http:// or https:// URL');
  if (!options.token) problems.push('`token` is required (an API token)');
  const delay = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_DELAY_MS)
      problems.push(
        `\`${name}\` must be a number of milliseconds above 0 and up to ${MAX_DELAY_MS}, not ${String(value)}`,
      );
    return value;
  };
  const minMs = delay('backoff.minMs', options.backoff?.minMs, 500);
  const maxMs = delay('backoff.maxMs', options.backoff?.maxMs, 30_000);
  if (maxMs < minMs)
    problems.push(`\`backoff.maxMs\` (${maxMs}) must not be below \`backoff.minMs\` (${minMs})`);
  const reportIntervalMs = delay('reportIntervalMs', options.reportIntervalMs, 5_000);
  const idleTimeoutMs = delay('idleTimeoutMs', options.idleTimeoutMs, 45_000);
  const requestTimeoutMs = delay('requestTimeoutMs', options.requestTimeoutMs, 10_000);
  if (
    options.keys &&
    (options.keys.length === 0 || options.keys.some((k) => typeof k !== 'string' || !k.trim()))
  )
    problems.push('`keys` must list key names (leave it out for every key)');
  if (problems.length) throw new TypeError(`ConfigClient: ${problems.join('; ')}`);
  return {
    url: options.url,
    token: options.token,
    env: options.env || null,
    guild: options.guild || null,
    keys: options.keys ? [...new Set(options.keys.map(keyName))].sort() : null,
    cacheFile: options.cacheFile || undefined,
    // Cut to the API's limits: a report refused for a long name would only ever warn.
    name: (options.name ?? basename(process.argv[1] ?? process.argv0)).slice(0, 100),
    version: options.version ? options.version.slice(0, 50) : undefined,
    reportIntervalMs,
    backoff: { minMs, maxMs },
    idleTimeoutMs,
    requestTimeoutMs,
    fetch: options.fetch ?? fetch,
  };
}

function isHttpUrl(url: unknown): boolean {
  if (typeof url !== 'string') return false;
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    // Not a URL at all: the caller reports it with the other problems.
    return false;
  }
}
