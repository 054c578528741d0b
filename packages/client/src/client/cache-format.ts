import type { Resolved } from './memory.js';
import type { WireFlag } from '../wire.js';
import { isFields, readFlag } from './read-wire.js';

/** What the values were read for: a file written for another request is not used as is. */
export interface CacheRequest {
  env: string | null;
  guild: string | null;
  keys: string[] | null;
}

export interface Sealed {
  iv: string;
  tag: string;
  data: string;
}

export interface StoredValue {
  version: number;
  layer: string;
  sensitive: boolean;
  /** Present for values that are not sensitive. */
  value?: unknown;
  /** A sensitive value, AES-256-GCM under a key derived from the token. */
  sealed?: Sealed;
  /** A sensitive value this token may not see (so it was never known). */
  masked?: true;
}

/** The last-known-good file, as written (docs/client.md). */
export interface FileContent {
  format: 1;
  writtenAt: string;
  /** The change-stream position these values include: the stream resumes after it. */
  seq: number;
  request: CacheRequest;
  /** The API's base URL: positions from another API mean nothing to this one. */
  api: string;
  /** The environment and guild the API resolved `request` to (a token's scope can decide them). */
  resolved: Resolved;
  /** HMAC-SHA256 of a constant under a key derived from the token: tells a file of another token. */
  tokenCheck: string;
  /** HKDF salt of this file's keys (random per client). */
  salt: string;
  values: Record<string, StoredValue>;
  /**
   * The flags as the API sent them (not sensitive: any read token sees them) and the server's
   * environment. Absent in files written before flags, or while the API had none.
   */
  flags?: { environment: string; items: WireFlag[] };
}

/** How many problems a message names before "and N more": it stays one line. */
const SHOWN = 3;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Parses and checks every field of a last-known-good file; throws one line naming what is wrong,
 * so that a damaged or foreign file is reported as unreadable rather than failing later.
 */
export function parseContent(text: string): FileContent {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  if (!isFields(data)) throw new Error('not a JSON object');
  if (data.format !== 1) throw new Error('not a config-bot client last-known-good file (`format` is not 1)');
  const problems: string[] = [];
  const check = (ok: boolean, problem: string): void => {
    if (!ok) problems.push(problem);
  };
  const { writtenAt, seq, request, api, resolved, tokenCheck, salt, values } = data;
  check(typeof writtenAt === 'string' && !Number.isNaN(Date.parse(writtenAt)), '`writtenAt` is not a date');
  check(Number.isSafeInteger(seq) && (seq as number) >= 0, '`seq` is not a position');
  check(
    isFields(request) &&
      nameOrNull(request.env) &&
      nameOrNull(request.guild) &&
      (request.keys === null || (Array.isArray(request.keys) && request.keys.every(isName))),
    '`request` is not { env, guild, keys }',
  );
  check(isName(api), '`api` is not a URL');
  check(
    isFields(resolved) && isName(resolved.environment) && nameOrNull(resolved.guild),
    '`resolved` is not { environment, guild }',
  );
  check(isBase64(tokenCheck), '`tokenCheck` is not base64');
  check(isBase64(salt), '`salt` is not base64');
  if (!isFields(values)) problems.push('`values` is not an object');
  else
    for (const [name, stored] of Object.entries(values)) {
      const problem = storedProblem(stored);
      if (problem) problems.push(`\`values.${name}\` ${problem}`);
    }
  if (data.flags !== undefined) problems.push(...flagsProblems(data.flags));
  if (problems.length) {
    const more = problems.length > SHOWN ? `; and ${problems.length - SHOWN} more` : '';
    throw new Error(`${problems.slice(0, SHOWN).join('; ')}${more}`);
  }
  return data as unknown as FileContent;
}

function storedProblem(stored: unknown): string | undefined {
  if (!isFields(stored)) return 'is not an object';
  if (!Number.isSafeInteger(stored.version)) return 'has no whole `version`';
  if (typeof stored.layer !== 'string') return 'has no `layer`';
  if (typeof stored.sensitive !== 'boolean') return 'has no `sensitive` flag';
  const { sealed } = stored;
  if (sealed !== undefined)
    return isFields(sealed) && isBase64(sealed.iv) && isBase64(sealed.tag) && isBase64(sealed.data)
      ? undefined
      : 'has a malformed `sealed`';
  if (stored.masked === true || 'value' in stored) return undefined;
  return 'has no `value`, `sealed` or `masked`';
}

function flagsProblems(flags: unknown): string[] {
  if (!isFields(flags) || !isName(flags.environment) || !Array.isArray(flags.items))
    return ['`flags` is not { environment, items }'];
  return flags.items.flatMap((item: unknown, i) => {
    const read = readFlag(item);
    return typeof read === 'string' ? [`\`flags.items[${i}]\` is not a flag (${read})`] : [];
  });
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function nameOrNull(value: unknown): boolean {
  return value === null || isName(value);
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && BASE64.test(value);
}
