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
