import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import cron from 'node-cron';
import { z } from 'zod';
import { preview } from '../base/text.js';

export { preview };

/**
 * Value kinds: each turns the text an admin types into a typed value (`schema`) and back
 * (`format`), so a stored value can be re-checked against today's rules by formatting and
 * parsing it again. Every failure carries a message that names what is allowed.
 */
export interface ValueKind<T> {
  /** Shown to users next to the value, e.g. "integer 1-1000". */
  readonly type: string;
  readonly schema: z.ZodType<T, string>;
  format(value: T): string;
  /** Complete list of allowed inputs, when there is one (enums, booleans): used for autocomplete. */
  readonly choices?: readonly string[];
}

type Ctx = z.core.$RefinementCtx<string>;

/** Adds one issue and returns zod's NEVER, so a transform can fail with our own text. */
function fail(ctx: Ctx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
}

/** Shared by every key: zod schemas are immutable, and each key's own nodes cost memory. */
const TEXT = z.string();

/**
 * A schema that trims the text, then lets `check` turn it into a value or fail. One transform on a
 * shared base rather than a chain of fresh nodes: every key builds its own schema, and the chain
 * cost a registry of 10,000 keys about 20 MB and 170 ms more at start.
 */
function fromText<T>(check: (s: string, ctx: Ctx) => T): z.ZodType<T, string> {
  return TEXT.transform((raw, ctx) => check(raw.trim(), ctx));
}

interface IntegerOptions {
  min?: number;
  max?: number;
  /** Extra text for the error when the value is over `max`, e.g. why the limit exists. */
  maxReason?: string;
  minReason?: string;
  unit?: string;
}

export function integer(opts: IntegerOptions = {}): ValueKind<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER, unit = '' } = opts;
  const range = `${min}-${max}${unit ? ` ${unit}` : ''}`;
  return {
    type: `integer ${range}`,
    // Whole-string match on purpose: parseInt('12abc') is 12, and that leniency stores typos.
    schema: fromText((s, ctx) => {
      if (!/^[+-]?\d+$/.test(s))
        return fail(ctx, `"${preview(s)}" is not a whole number. Use digits only, e.g. 100`);
      const n = Number(s) || 0; // "-0" is 0
      if (!Number.isSafeInteger(n)) return fail(ctx, `${preview(s)} is too large`);
      if (n < min) return fail(ctx, `Must be at least ${min}${opts.minReason ? ` (${opts.minReason})` : ''}`);
      if (n > max) return fail(ctx, `Must be at most ${max}${opts.maxReason ? ` (${opts.maxReason})` : ''}`);
      return n;
    }),
    format: (n) => String(n),
  };
}

interface DecimalOptions {
  min: number;
  max: number;
  /** Extra text for the error when the value is under `min`, e.g. why the limit exists. */
  minReason?: string;
}

export function decimal({ min, max, minReason }: DecimalOptions): ValueKind<number> {
  return {
    type: `number ${min}-${max}`,
    schema: fromText((s, ctx) => {
      if (!/^[+-]?(\d+(\.\d+)?|\.\d+)$/.test(s)) {
        return fail(ctx, `"${preview(s)}" is not a number. Use a decimal like 0.85`);
      }
      const n = Number(s) || 0; // "-0" is 0
      if (n < min && minReason) return fail(ctx, `Must be at least ${min} (${minReason}); got ${s}`);
      if (n < min || n > max) return fail(ctx, `Must be between ${min} and ${max}; got ${s}`);
      return n;
    }),
    format: (n) => String(n),
  };
}

const TRUE = ['true', 'on', 'yes', '1'];
const FALSE = ['false', 'off', 'no', '0'];

export function boolean(): ValueKind<boolean> {
  return {
    type: 'boolean (true/false, on/off, yes/no, 1/0)',
    schema: fromText((s, ctx) => {
      const v = s.toLowerCase();
      if (TRUE.includes(v)) return true;
      if (FALSE.includes(v)) return false;
      return fail(ctx, `"${preview(s)}" is not a boolean. Use true/false, on/off, yes/no or 1/0`);
    }),
    format: (b) => String(b),
    choices: ['true', 'false'],
  };
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T): ValueKind<T[number]> {
  const list = values.join(', ');
  return {
    type: `one of ${list}`,
    schema: fromText((s, ctx) => {
      const v = values.find((x) => x.toLowerCase() === s.toLowerCase());
      return v ?? fail(ctx, `"${preview(s)}" is not allowed. Use one of: ${list}`);
    }),
    format: (v) => v,
    choices: values,
  };
}

/** `HH:MM`, 24-hour, two digits each. Range rules belong to the key that uses it. */
export function timeOfDay(): ValueKind<string> {
  return {
    type: 'time HH:MM (24-hour)',
    schema: fromText((s, ctx) => {
      const m = /^(\d{2}):(\d{2})$/.exec(s);
      if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) {
        return fail(ctx, `Invalid format. Use HH:MM (e.g., 18:00); got "${preview(s)}"`);
      }
      return s;
    }),
    format: (s) => s,
  };
}

/** Slash-less names that are real places' zones rather than abbreviations or legacy aliases. */
const SLASHLESS_ZONES = new Set(['UTC', 'GMT']);

/**
 * An IANA time zone, stored as the admin typed it in its canonical case (`europe/kyiv` is stored
 * as Europe/Kyiv, not as the older name Intl resolves it to). Abbreviations and legacy aliases
 * such as EST or CET are refused: they follow no place's daylight-saving rules.
 */
export function timeZone(): ValueKind<string> {
  return {
    type: 'IANA time zone (e.g. Europe/Paris, America/New_York, UTC)',
    schema: fromText((s, ctx) => {
      if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(s))
        return fail(ctx, `"${preview(s)}" is not a time zone name`);
      const name = ianaZoneNames().get(s.toLowerCase());
      if (!name)
        return fail(
          ctx,
          `"${preview(s)}" is not an IANA time zone. Use a name like Europe/Paris, America/New_York or UTC`,
        );
      if (!name.includes('/') && !SLASHLESS_ZONES.has(name))
        return fail(
          ctx,
          `"${name}" is an abbreviation or legacy alias, not a place's time zone. Use a location such as America/New_York or Europe/Paris, or UTC`,
        );
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: name });
      } catch {
        return fail(ctx, `"${name}" is not known to this Node.js build's time zone data`);
      }
      return name;
    }),
    format: (s) => s,
  };
}

let zoneNames: Map<string, string> | undefined;

/**
 * Every zone and link name of the IANA database (the tzdata package), by lower case. Intl alone
 * cannot tell: it accepts names case-insensitively but answers with ICU's canonical spelling,
 * which is often an older name. The file is parsed once and only the names are kept.
 */
function ianaZoneNames(): Map<string, string> {
  if (!zoneNames) {
    const file = createRequire(import.meta.url).resolve('tzdata');
    const data = JSON.parse(readFileSync(file, 'utf8')) as { zones: Record<string, unknown> };
    zoneNames = new Map(Object.keys(data.zones).map((n) => [n.toLowerCase(), n]));
  }
  return zoneNames;
}

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type DurationUnit = keyof typeof DURATION_UNITS;

/** `90s`, `5m`, `2h`, `1d` (or `250ms`) to milliseconds. */
export function duration({ min = 0, max = 365 * 86_400_000 } = {}): ValueKind<number> {
  return {
    type: 'duration like 90s, 5m, 2h, 1d',
    schema: fromText((s, ctx) => {
      const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(s.toLowerCase());
      if (!m) return fail(ctx, `"${preview(s)}" is not a duration. Use a number and a unit: 90s, 5m, 2h, 1d`);
      const ms = Number(m[1]) * DURATION_UNITS[m[2] as DurationUnit];
      if (ms < min || ms > max) {
        return fail(ctx, `Must be between ${formatDuration(min)} and ${formatDuration(max)}`);
      }
      return ms;
    }),
    format: formatDuration,
  };
}

export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit];
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export function cronExpression(): ValueKind<string> {
  return {
    type: 'cron expression (e.g. 0 18 * * *)',
    schema: fromText((s, ctx) => {
      const normalised = s.replace(/\s+/g, ' ');
      const fields = normalised.split(' ').length;
      if ((fields !== 5 && fields !== 6) || !cron.validate(normalised)) {
        return fail(
          ctx,
          `"${preview(s)}" is not a valid cron expression. Use 5 or 6 fields, e.g. 0 18 * * *`,
        );
      }
      return normalised;
    }),
    format: (s) => s,
  };
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A URL with one of `protocols`. With `loopbackHttp`, plain http is also accepted for this
 * machine (localhost, 127.0.0.1, [::1]): a local relay, where no one on the network can listen.
 */
export function url({ protocols = ['https:', 'http:'], loopbackHttp = false } = {}): ValueKind<string> {
  const names = protocols.map((p) => p.replace(':', '')).join(' or ');
  return {
    type: `URL (${names}${loopbackHttp && !protocols.includes('http:') ? ', or http on localhost' : ''})`,
    schema: fromText((s, ctx) => {
      let parsed: URL;
      try {
        parsed = new URL(s);
      } catch {
        return fail(ctx, `"${preview(s)}" is not a URL. Use a full address like https://example.com/hook`);
      }
      const local = loopbackHttp && parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname);
      if (!protocols.includes(parsed.protocol) && !local) {
        return fail(
          ctx,
          `URL must use ${protocols.join(' or ')}${loopbackHttp ? ' (http: only on localhost)' : ''}; got ${parsed.protocol}//${parsed.hostname}`,
        );
      }
      return parsed.toString();
    }),
    format: (s) => s,
  };
}

/** A JSON object checked by a zod object schema. */
export function jsonObject<S extends z.ZodObject>(shape: S): ValueKind<z.output<S>> {
  return {
    type: 'JSON object',
    schema: fromText((s, ctx) => {
      let raw: unknown;
      try {
        raw = JSON.parse(s);
      } catch {
        return fail(ctx, 'Not valid JSON. Use an object like {"name": "value"}');
      }
      const parsed = shape.safeParse(raw);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(object)'}: ${i.message}`);
        return fail(ctx, `JSON does not match: ${issues.join('; ')}`);
      }
      return parsed.data;
    }),
    format: (v) => JSON.stringify(v),
  };
}

/**
 * Adds a key-specific hard rule on top of a kind: `rule` returns an error message, or nothing.
 * `type` says what is really allowed once the rule applies (shown as "Allowed: ..."), so users are
 * never told a range the rule then refuses.
 */
export function withRule<T>(
  kind: ValueKind<T>,
  rule: (value: T) => string | undefined,
  type: string = kind.type,
): ValueKind<T> {
  return {
    ...kind,
    type,
    schema: kind.schema.transform((v, ctx) => {
      const problem = rule(v);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER as never;
      }
      return v;
    }),
  };
}

/**
 * A kind whose value may be unset (null, the default of such keys). An admin unsets it with
 * /config reset; the empty text only ever comes from re-checking a stored null.
 */
export function optional<T>(kind: ValueKind<T>): ValueKind<T | null> {
  return {
    ...kind,
    type: `${kind.type}, or unset`,
    schema: fromText((s, ctx) => {
      if (s === '') return null;
      const parsed = kind.schema.safeParse(s);
      if (parsed.success) return parsed.data;
      return fail(ctx, parsed.error.issues.map((i) => i.message).join('; '));
    }),
    format: (v) => (v === null ? '' : kind.format(v)),
  };
}

/** Free text (a token, a name), optionally held to a pattern described by `hint`. */
export function text({
  min = 1,
  max = 1000,
  pattern,
  hint,
}: { min?: number; max?: number; pattern?: RegExp; hint?: string } = {}): ValueKind<string> {
  return {
    type: hint ?? `text (${min}-${max} characters)`,
    schema: TEXT.transform((raw, ctx) => {
      const s = raw.trim();
      if (s.length < min || s.length > max)
        return fail(ctx, `Must be ${min} to ${max} characters; got ${s.length}`);
      if (pattern && !pattern.test(s))
        return fail(ctx, `Does not match the expected form${hint ? ` (${hint})` : ''}`);
      return s;
    }),
    format: (s) => s,
  };
}
