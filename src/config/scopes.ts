import { distance } from 'fastest-levenshtein';
import { UserError } from '../base/errors.js';
import { ENVIRONMENT_NAME } from '@config-bot/client/flags';
import { preview } from '../base/text.js';

import { GLOBAL, kindOf, type Scope, type ScopeKind } from '../storage/slots.js';

export { GLOBAL, keyOfSlot, kindOf, slotId, splitSlot } from '../storage/slots.js';
export type { Scope, ScopeKind } from '../storage/slots.js';

// Defined where the client library's flag engine can import it without server code.
export { ENVIRONMENT_NAME };
const GUILD_ID = /^\d{15,21}$/;

/**
 * Reads what a user typed as a scope (`global`, `env:staging`, `guild:123...`) for a key that
 * allows `allowed`. Refuses an unknown form, an environment not in ENVIRONMENTS (with a "did you
 * mean"), a malformed server id, and a scope the key does not allow (saying which it allows).
 */
export function parseScope(
  input: string | null | undefined,
  opts: { key: string; allowed: readonly ScopeKind[]; environments: readonly string[] },
): Scope {
  const text = (input ?? '').trim();
  if (!text || text.toLowerCase() === GLOBAL) return checkAllowed(GLOBAL, opts);
  const m = /^(env|guild):(.*)$/i.exec(text);
  if (!m) {
    throw new UserError(
      'INVALID_VALUE',
      `"${preview(text)}" is not a scope. Use global, env:<name> (${opts.environments.join(', ')}) or guild:<server id>.`,
      { key: opts.key },
    );
  }
  const kind = (m[1] ?? '').toLowerCase();
  const name = (m[2] ?? '').trim();
  if (kind === 'env') {
    const env = name.toLowerCase();
    if (!opts.environments.includes(env)) {
      const near = nearestEnvironment(opts.environments, env);
      throw new UserError(
        'INVALID_VALUE',
        `"${preview(name)}" is not a declared environment (ENVIRONMENTS: ${opts.environments.join(', ')}).${near ? ` Did you mean env:${near}?` : ''}`,
        { key: opts.key },
      );
    }
    return checkAllowed(`env:${env}`, opts);
  }
  if (!GUILD_ID.test(name))
    throw new UserError('INVALID_VALUE', `"${preview(name)}" is not a Discord server id (15-21 digits).`, {
      key: opts.key,
    });
  return checkAllowed(`guild:${name}`, opts);
}

/** The declared environment `typed` most likely means: one it abbreviates, or one a typo away. */
export function nearestEnvironment(environments: readonly string[], typed: string): string | undefined {
  return (
    environments.find((e) => typed.length >= 2 && e.startsWith(typed)) ??
    environments.find((e) => distance(e, typed) <= Math.max(2, Math.floor(typed.length / 3)))
  );
}

function checkAllowed(scope: Scope, opts: { key: string; allowed: readonly ScopeKind[] }): Scope {
  if (opts.allowed.includes(kindOf(scope))) return scope;
  throw new UserError(
    'INVALID_VALUE',
    `${opts.key} cannot be set per ${kindOf(scope) === 'env' ? 'environment' : kindOf(scope) === 'guild' ? 'server' : 'global'}: it allows ${opts.allowed.map(describeKind).join(', ')}.`,
    { key: opts.key },
  );
}

function describeKind(kind: ScopeKind): string {
  return kind === 'global' ? 'global' : kind === 'env' ? 'env:<name>' : 'guild:<server id>';
}
