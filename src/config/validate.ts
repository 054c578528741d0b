import { distance } from 'fastest-levenshtein';
import { UserError } from '../base/errors.js';
import { preview, visible } from '../base/text.js';
import { MASK } from './present.js';
import { KEY_PATTERN, type RegisteredKey, type Registry } from './registry.js';

export const MAX_VALUE_LENGTH = 1000;
export const MAX_REASON_LENGTH = 500;

/**
 * Turns what an admin typed into a registered key. Case-insensitive; anything that is not
 * UPPER_SNAKE after upper-casing (`$where`, `a.b`, `__proto__`) is refused before it can reach a
 * query, and an unknown name gets the nearest known names as suggestions.
 */
export function resolveKey(registry: Registry, input: string): RegisteredKey {
  const name = normaliseKey(input);
  const def = registry.get(name);
  if (!def) {
    const suggestions = suggestKeys(registry, name);
    if (suggestions.length)
      throw new UserError(
        'UNKNOWN_KEY',
        `Unknown setting ${name}. Did you mean ${suggestions.join(' or ')}?`,
        {
          key: name,
          suggestions,
        },
      );
    throw new UserError('UNKNOWN_KEY', `Unknown setting ${name}.`, { key: name, suggestions }, undefined, {
      to: 'list-keys',
    });
  }
  return def;
}

export function normaliseKey(input: string): string {
  const name = input.trim().toUpperCase();
  if (!KEY_PATTERN.test(name)) {
    throw new UserError(
      'INVALID_KEY',
      `"${preview(input)}" is not a valid setting name. Names are letters, digits and underscores, start with a letter, at most 64 characters (e.g. MAX_BATCH_SIZE).`,
      { key: preview(input, 64) },
    );
  }
  return name;
}

export interface Parsed<T = unknown> {
  value: T;
  warnings: string[];
}

/** Parses text for a key; throws a UserError naming the key and what is allowed. */
export function parseValue<T>(def: RegisteredKey<T>, input: string): Parsed<T> {
  if (input.length > MAX_VALUE_LENGTH) {
    throw new UserError(
      'TOO_LONG',
      `Value is too long (${input.length} characters); at most ${MAX_VALUE_LENGTH}.`,
      {
        key: def.key,
      },
    );
  }
  const result = def.schema.safeParse(input);
  if (!result.success) {
    let why = result.error.issues.map((i) => i.message).join('; ');
    // A refused secret is still a secret: the reply, the audit row and the log must not repeat it.
    if (def.sensitive) {
      for (const echo of [input.trim(), preview(input.trim())]) if (echo) why = why.split(echo).join(MASK);
      why = maskEchoes(why, input);
    }
    throw new UserError('INVALID_VALUE', `Invalid value for ${def.key}: ${why}. Allowed: ${def.type}.`, {
      key: def.key,
      allowed: def.type,
    });
  }
  return { value: result.data, warnings: def.warnings?.(result.data) ?? [] };
}

/** Shortest run of a refused secret that counts as repeating it (a URL's host, part of a token). */
const ECHO_RUN = 6;

/**
 * Masks every part of `message` that repeats a run of at least ECHO_RUN characters of `input`
 * (a kind's message may quote part of what was typed, such as a URL's scheme and host).
 */
export function maskEchoes(message: string, input: string): string {
  const runs = new Set<string>();
  for (let i = 0; i + ECHO_RUN <= input.length; i++) runs.add(input.slice(i, i + ECHO_RUN));
  const masked = new Array<boolean>(message.length).fill(false);
  for (let i = 0; i + ECHO_RUN <= message.length; i++)
    if (runs.has(message.slice(i, i + ECHO_RUN))) masked.fill(true, i, i + ECHO_RUN);
  let out = '';
  for (let i = 0; i < message.length; i++) {
    if (!masked[i]) out += message[i];
    else if (i === 0 || !masked[i - 1]) out += MASK;
  }
  return out;
}

/** Re-checks a stored value against today's rules by formatting it back to text. */
export function revalidate<T>(def: RegisteredKey<T>, stored: unknown): Parsed<T> {
  let text: string;
  try {
    text = def.format(stored as T);
  } catch {
    text = typeof stored === 'string' ? stored : JSON.stringify(stored);
  }
  return parseValue(def, typeof text === 'string' ? text : String(text));
}

/**
 * A reason as it is stored: trimmed, with control and bidirectional characters shown visibly
 * (see visible), so the history and the audit log read exactly as they were typed.
 */
export function checkReason(reason: string | undefined): string | undefined {
  const trimmed = reason?.trim();
  if (!trimmed) return undefined;
  if (trimmed.length > MAX_REASON_LENGTH) {
    throw new UserError(
      'TOO_LONG',
      `Reason is too long (${trimmed.length} characters); at most ${MAX_REASON_LENGTH}.`,
    );
  }
  return visible(trimmed);
}

/** Nearest registered names by edit distance, plus names containing the input. */
export function suggestKeys(registry: Registry, name: string, max = 3): string[] {
  const scored = [...registry.keys()].map((k) => ({
    k,
    d: k.includes(name) || name.includes(k) ? 0 : distance(k, name),
  }));
  const limit = Math.max(2, Math.floor(name.length / 3));
  return scored
    .filter((s) => s.d <= limit)
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, max)
    .map((s) => s.k);
}
