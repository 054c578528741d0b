import { z } from 'zod';
import cron from 'node-cron';

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
}

export function decimal({ min, max }: DecimalOptions): ValueKind<number> {
  return {
    type: `number ${min}-${max}`,
    schema: fromText((s, ctx) => {
      if (!/^[+-]?(\d+(\.\d+)?|\.\d+)$/.test(s)) {
        return fail(ctx, `"${preview(s)}" is not a number. Use a decimal like 0.85`);
      }
      const n = Number(s) || 0; // "-0" is 0
      if (n < min || n > max) return fail(ctx, `Must be between ${min} and ${max}`);
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

export function timeZone(): ValueKind<string> {
  return {
    type: 'IANA time zone (e.g. Europe/Paris, UTC)',
    schema: fromText((s, ctx) => {
      // Intl knows the current tz database; its resolved name is the canonical spelling.
      if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(s))
        return fail(ctx, `"${preview(s)}" is not a time zone name`);
      try {
        return new Intl.DateTimeFormat('en-US', { timeZone: s }).resolvedOptions().timeZone;
      } catch {
        return fail(
          ctx,
          `"${preview(s)}" is not a known IANA time zone. Use a name like Europe/Paris or UTC`,
        );
      }
    }),
    format: (s) => s,
  };
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

export function url({ protocols = ['https:', 'http:'] } = {}): ValueKind<string> {
  return {
    type: `URL (${protocols.map((p) => p.replace(':', '')).join(' or ')})`,
    schema: fromText((s, ctx) => {
      let parsed: URL;
      try {
        parsed = new URL(s);
      } catch {
        return fail(ctx, `"${preview(s)}" is not a URL. Use a full address like https://example.com/hook`);
      }
      if (!protocols.includes(parsed.protocol)) {
        return fail(ctx, `URL must use ${protocols.join(' or ')}; got ${parsed.protocol}`);
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

/** Keeps error messages short and single-line whatever was typed. */
export function preview(s: string, max = 40): string {
  const oneLine = s.replace(/[\r\n\t]+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

/** Adds a key-specific hard rule on top of a kind: `rule` returns an error message, or nothing. */
export function withRule<T>(kind: ValueKind<T>, rule: (value: T) => string | undefined): ValueKind<T> {
  return {
    ...kind,
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
