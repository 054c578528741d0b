import { GLOBAL, type Scope } from '../../config/scopes.js';

// Scopes in custom ids (history pages, the editor), which Discord caps at 100 characters.

/**
 * A scope in a custom id, kept short: `g` global, `e<name>` an environment, `s<id in base 36>` a
 * server (a 20-digit id takes 13 characters).
 */
export function scopeCode(scope: Scope): string {
  if (scope === GLOBAL) return 'g';
  if (scope.startsWith('env:')) return `e${scope.slice(4)}`;
  return `s${BigInt(scope.slice(6)).toString(36)}`;
}

export function scopeFromCode(code: string): Scope {
  if (!code || code === 'g') return GLOBAL;
  if (code.startsWith('e')) return `env:${code.slice(1)}`;
  if (/^s[0-9a-z]{1,15}$/.test(code)) {
    let n = 0n;
    for (const c of code.slice(1)) n = n * 36n + BigInt(parseInt(c, 36));
    return `guild:${n.toString()}`;
  }
  return GLOBAL;
}
