import { UserError } from '../base/errors.js';
import { Undecryptable } from '../storage/codec.js';
import type { VersionAction } from '../storage/config-models.js';
import { GLOBAL, splitSlot, type Scope } from './scopes.js';
import { present, sameValue } from './present.js';
import type { RegisteredKey } from './registry.js';
import type { ConfigStore } from '../storage/config-store.js';
import type { Preview } from './types.js';
import { isPlainObject } from './merge.js';
import { parseValue, revalidate } from './validate.js';

/**
 * The checks a change must pass before anything is written, and the words for each refusal:
 * what a rollback restores, whether a sensitive value can be stored, whether anything would
 * change at all. Shared by the previews (the confirmation step) and the writes themselves.
 */

/** A checked value to write, with its soft-limit warnings. */
export interface Checked {
  value: unknown;
  warnings: string[];
}

/** "Already has that value" (or, for an unset, "has no override"): nothing would change. */
export function unchangedError(
  def: RegisteredKey,
  action: VersionAction,
  current: unknown,
  restoredFrom?: number,
  scope: Scope = GLOBAL,
): UserError {
  if (action === 'unset')
    return new UserError('UNCHANGED', `${def.key} has no override at ${scope}. Nothing was changed.`, {
      key: def.key,
    });
  const where = scope === GLOBAL ? '' : ` at ${scope}`;
  const what =
    restoredFrom !== undefined
      ? ` (the value of version ${restoredFrom})`
      : action === 'reset'
        ? ' (its default)'
        : '';
  return new UserError(
    'UNCHANGED',
    `${def.key}${where} is already ${present(def, current)}${what}. Nothing was changed.`,
    { key: def.key },
  );
}

/**
 * A stored value checked against today's rules: a whole value by its kind, a partial override of
 * a `merge: 'deep'` key as a JSON object (the merged whole is checked when it is written).
 */
export function storedValue(def: RegisteredKey, scope: Scope, value: unknown): Checked {
  if (def.merge === 'deep' && scope !== GLOBAL) {
    if (isPlainObject(value)) return { value, warnings: [] };
    throw new UserError(
      'INVALID_VALUE',
      `An override of ${def.key} holds a JSON object of the fields it changes.`,
      {
        key: def.key,
      },
    );
  }
  return revalidate(def, value);
}

/** What a user typed for `def` at `scope`: a partial override of a merged key, else a whole value. */
export function parseTyped(def: RegisteredKey, scope: Scope, text: string): Checked {
  return def.merge === 'deep' && scope !== GLOBAL ? parsePartial(def, text) : parseValue(def, text);
}

/**
 * What a user typed as a partial override of a `merge: 'deep'` key: a JSON object of the fields it
 * changes (checked as part of the merged whole when it is written).
 */
export function parsePartial(def: RegisteredKey, text: string): Checked {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  if (!isPlainObject(raw))
    throw new UserError(
      'INVALID_VALUE',
      `Invalid value for ${def.key}: an override holds only the fields it changes, as a JSON object like {"field": "value"}.`,
      { key: def.key },
    );
  return { value: raw, warnings: [] };
}

/** A sensitive value can only be stored encrypted: without a key, refuse before anything is written. */
export function requireEncryption(def: RegisteredKey, value: unknown, encrypts: boolean): void {
  if (!def.sensitive || value === null || value === undefined || encrypts) return;
  throw new UserError(
    'ENCRYPTION_REQUIRED',
    `${def.key} is sensitive and is stored encrypted, but this bot has no CONFIG_ENCRYPTION_KEYS. Generate a key (openssl rand -base64 32), set CONFIG_ENCRYPTION_KEYS to it for every bot process, restart, and try again. Nothing was changed.`,
    { key: def.key },
  );
}

/** The value of `toVersion`, checked against today's rules; `latest` names the range that exists. */
export async function rollbackTarget(
  store: ConfigStore,
  def: RegisteredKey,
  slot: string,
  toVersion: number,
  latest: number | undefined,
  encrypts: boolean,
): Promise<Checked> {
  if (!Number.isSafeInteger(toVersion) || toVersion < 1) {
    throw new UserError(
      'VERSION_NOT_FOUND',
      `Version must be a whole number of at least 1; got ${String(toVersion)}.`,
      {
        key: def.key,
      },
    );
  }
  const scope = splitSlot(slot).scope;
  const named = scope === GLOBAL ? def.key : `${def.key} at ${scope}`;
  const target = await store.version(slot, toVersion);
  if (!target) {
    throw new UserError(
      'VERSION_NOT_FOUND',
      `${named} has no version ${toVersion}${latest ? ` (versions 1-${latest} exist)` : ''}.`,
      { key: def.key, toVersion },
    );
  }
  if (target.action === 'unset') {
    throw new UserError(
      'INVALID_VALUE',
      `Version ${toVersion} of ${named} removed the override: there is no value to roll back to.`,
      { key: def.key, toVersion },
      undefined,
      { to: 'reset', key: def.key, scope },
    );
  }
  if (target.value instanceof Undecryptable) {
    throw new UserError(
      'ENCRYPTION_REQUIRED',
      `Cannot roll back ${named} to version ${toVersion}: this process cannot decrypt it (${target.value.reason}).`,
      { key: def.key, toVersion },
    );
  }
  let checked: Checked;
  try {
    checked = storedValue(def, scope, target.value);
  } catch (err) {
    const why = err instanceof UserError ? err.message : String(err);
    throw new UserError(
      'INVALID_VALUE',
      `Cannot roll back ${def.key} to version ${toVersion}: its value ${present(def, target.value)} is not allowed by today's rules. ${why}`,
      { key: def.key, toVersion },
    );
  }
  requireEncryption(def, checked.value, encrypts);
  return checked;
}

/** What a rollback or reset would change; throws UNCHANGED when it would change nothing. */
export function previewOf(
  def: RegisteredKey,
  action: VersionAction,
  current: { value: unknown; version: number; unset?: boolean },
  next: Checked,
  restoredFrom?: number,
  scope: Scope = GLOBAL,
): Preview {
  const unchanged =
    action === 'unset' ? Boolean(current.unset) : !current.unset && sameValue(def, next.value, current.value);
  if (unchanged) throw unchangedError(def, action, current.value, restoredFrom, scope);
  return {
    key: def.key,
    scope,
    action,
    currentVersion: current.version,
    current: current.unset ? '(no override)' : present(def, current.value),
    next: present(def, next.value),
    warnings: next.warnings,
    ...(restoredFrom !== undefined ? { restoredFrom } : {}),
    ...(action === 'unset' ? {} : { value: next.value }),
  };
}

/** A key's default as a proposal, with its soft-limit warnings. */
export function defaultOf(def: RegisteredKey): Checked {
  return { value: def.default, warnings: def.warnings?.(def.default) ?? [] };
}
