import { Address4, Address6 } from 'ip-address';
import { RE2JS } from 're2js';
import semver from 'semver';
import * as z from 'zod';

/** Values inside conditions, shared by validation (schema.ts) and the evaluator's precompilation. */

/** A decimal number, the whole string (`Number('')` is 0 and `Number(' 1')` is 1: both refused). */
export function parseNumber(s: string): number | undefined {
  if (s === '' || s.trim() !== s) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

const ISO_DATE = z.iso.date();
const ISO_DATE_TIME = z.iso.datetime({ offset: true });

/** An ISO 8601 date (`2026-05-01`, midnight UTC) or date-time with a zone; epoch ms. */
export function parseDate(s: string): number | undefined {
  if (!ISO_DATE.safeParse(s).success && !ISO_DATE_TIME.safeParse(s).success) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** A semantic version as Unleash accepts it: valid for `semver`, and no `v` or `=` in front. */
export function parseSemver(s: string): semver.SemVer | undefined {
  if (!/^\d/.test(s) || s.trim() !== s) return undefined;
  return semver.parse(s) ?? undefined;
}

/**
 * A regular expression in RE2's syntax, compiled, or why it is not one. RE2 (re2js, the engine
 * unleash-client uses) matches in time linear in the input: a pattern an admin writes can never
 * make an application's evaluation hang on a hostile value, as a backtracking RegExp can.
 */
export function compileRegex(source: string, caseInsensitive = false): RE2JS | { error: string } {
  try {
    return RE2JS.compile(source, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** An IPv4 or IPv6 address or CIDR range (`10.0.0.0/8`, `2001:db8::/32`), as ip-address reads it. */
export function parseAddress(s: string): Address4 | Address6 | undefined {
  if (Address4.isValid(s)) return new Address4(s);
  if (Address6.isValid(s)) return new Address6(s);
  return undefined;
}
