/**
 * Reading a context: where a value comes from (a context field or an attribute) and its text.
 */
import type { FlagContext } from './model.js';

/** Where a value comes from: a context field, or `attributes[name]`. */
export type Key = { kind: 'userId' | 'guildId' | 'environment' | 'currentTime' | 'attribute'; name: string };
export const keyOf = (name: string): Key =>
  name === 'userId' || name === 'guildId' || name === 'environment' || name === 'currentTime'
    ? { kind: name, name }
    : { kind: 'attribute', name };

export const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : v === undefined || v === null ? undefined : String(v);

export function timeOf(ctx: FlagContext): number {
  const t = ctx.now instanceof Date ? ctx.now.getTime() : NaN;
  return Number.isNaN(t) ? Date.now() : t;
}

/** The value at `key`; `environment` is the set's, used when the context names none. */
export function lookup(key: Key, ctx: FlagContext, environment: string | undefined): string | undefined {
  switch (key.kind) {
    case 'userId':
      return text(ctx.userId);
    case 'guildId':
      return text(ctx.guildId);
    case 'environment':
      return text(ctx.environment ?? environment);
    case 'currentTime':
      return new Date(timeOf(ctx)).toISOString();
    default: {
      const a = ctx.attributes;
      // Own properties only: `__proto__` or `constructor` must not read the prototype.
      return a && Object.hasOwn(a, key.name) ? text(a[key.name]) : undefined;
    }
  }
}
