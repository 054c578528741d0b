import { UserError } from '../base/errors.js';
import { preview } from '../base/text.js';
import { readTime } from '../config/when.js';
import {
  FLAG_IMPACTS,
  FLAG_TYPES,
  OPERATORS,
  PAYLOAD_TYPES,
  conditionValues,
  parseDate,
  parseOverrides,
  parseFlag,
  type Condition,
  type FlagDefinition,
  type FlagInput,
  type Variant,
} from '@config-bot/client/flags';
import { slotOfFlag } from '../flags/types.js';

/** A form body as @fastify/formbody parses it: a repeated field is an array. */
export type FormBody = Record<string, string | string[] | undefined>;

/** A problem with one field of a form: `field` names the input (`rollout`, `conditions.1`). */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The sections of a flag's page, each its own form. */
export const SECTIONS = [
  'details',
  'environments',
  'targeting',
  'conditions',
  'rollout',
  'variants',
  'prerequisites',
  'schedule',
  'threshold',
] as const;
export type Section = (typeof SECTIONS)[number];

/** What a section's form needs besides the flag: other flags' prerequisites, the time zone. */
export interface EditContext {
  now: Date;
  /** SCHEDULE_TIMEZONE: how a schedule time without a zone is read. */
  timeZone: string;
  /** The prerequisites of another flag (undefined: no such flag), to refuse unknown names and cycles. */
  prerequisitesOf(name: string): string[] | undefined;
}

/** One value of a field (the first when repeated), trimmed. */
export const one = (body: FormBody, name: string): string => {
  const v = body[name];
  return (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();
};

/** Every value of a repeated field, in order. */
export const all = (body: FormBody, name: string): string[] => {
  const v = body[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

/** Ids or names typed in a box: separated by commas, spaces or lines. */
export const words = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/** Refuses a form with every problem named by its field (the store audits the refusal). */
export function refuse(name: string, issues: FieldIssue[]): never {
  throw new UserError(
    'INVALID_VALUE',
    `${name} was not changed: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    { key: slotOfFlag(name), fields: issues },
  );
}

/** A number as typed in a form; undefined for empty or not a number. */
function num(text: string): number | undefined {
  if (text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The definition a section's form proposes, from the flag as it is now. Problems only the form
 * can see (a number that is not one, an unknown prerequisite) are refused here, every one named;
 * the rest is the model's (parseFlag, in the store's write), reported by `issuesOf`.
 */
export function proposeSection(
  section: Section,
  f: FlagDefinition,
  body: FormBody,
  ctx: EditContext,
): FlagInput {
  const issues: FieldIssue[] = [];
  const next = SECTION_EDITS[section](f, body, ctx, issues);
  if (issues.length) refuse(f.name, issues);
  return next;
}

type SectionEdit = (f: FlagDefinition, body: FormBody, ctx: EditContext, issues: FieldIssue[]) => FlagInput;

const SECTION_EDITS: Record<Section, SectionEdit> = {
  details(f, body, _ctx, issues) {
    const type = one(body, 'type');
    const impact = one(body, 'impact');
    if (!(FLAG_TYPES as readonly string[]).includes(type))
      issues.push({ field: 'type', message: `must be one of ${FLAG_TYPES.join(', ')}` });
    if (!(FLAG_IMPACTS as readonly string[]).includes(impact))
      issues.push({ field: 'impact', message: `must be one of ${FLAG_IMPACTS.join(', ')}` });
    return {
      ...f,
      description: one(body, 'description'),
      owner: one(body, 'owner'),
      type: type as FlagDefinition['type'],
      impact: impact as FlagDefinition['impact'],
    };
  },
  environments(f, body) {
    const listed = [...all(body, 'env'), ...words(one(body, 'envOther').toLowerCase())];
    return { ...f, environments: [...new Set(listed.map((e) => e.trim()).filter(Boolean))] };
  },
  targeting(f, body) {
    const list = (field: string) => [...new Set(words(one(body, field)))];
    return {
      ...f,
      include: { users: list('includeUsers'), roles: list('includeRoles'), guilds: list('includeGuilds') },
      exclude: { users: list('excludeUsers'), roles: list('excludeRoles'), guilds: list('excludeGuilds') },
    };
  },
  conditions(f, body, _ctx, issues) {
    const attrs = all(body, 'attribute');
    const ops = all(body, 'operator');
    const values = all(body, 'values');
    const removed = new Set(all(body, 'remove'));
    // Checkboxes send their row's number when ticked, nothing otherwise.
    const inverted = new Set(all(body, 'inverted'));
    const folded = new Set(all(body, 'caseInsensitive'));
    const conditions: Condition[] = [];
    attrs.forEach((a, i) => {
      const attribute = a.trim();
      const text = (values[i] ?? '').trim();
      if (removed.has(String(i)) || (!attribute && !text)) return;
      const operator = (ops[i] ?? '').trim();
      if (!(OPERATORS as readonly string[]).includes(operator))
        issues.push({ field: `conditions.${i}`, message: `operator must be one of ${OPERATORS.join(', ')}` });
      // As /flag condition takes them (comma-separated, one value for regex and comparisons).
      conditions.push({
        attribute,
        operator: operator as Condition['operator'],
        values: conditionValues(operator, text),
        ...(inverted.has(String(i)) ? { inverted: true } : {}),
        ...(folded.has(String(i)) ? { caseInsensitive: true } : {}),
      });
    });
    return { ...f, conditions };
  },
  rollout(f, body, _ctx, issues) {
    const text = one(body, 'rollout');
    const rollout = num(text);
    if (rollout === undefined)
      issues.push({
        field: 'rollout',
        message: `${text ? `"${preview(text)}" is not a number` : 'is required'}: a percentage from 0 to 100`,
      });
    const { group: _old, ...rest } = f;
    const group = one(body, 'group');
    return {
      ...rest,
      rollout: rollout ?? f.rollout,
      stickiness: one(body, 'stickiness') || 'userId',
      ...(group ? { group } : {}),
    };
  },
  variants(f, body, _ctx, issues) {
    const names = all(body, 'variant');
    const weights = all(body, 'weight');
    const types = all(body, 'payloadType');
    const payloads = all(body, 'payload');
    const pinned = all(body, 'pinned');
    const removed = new Set(all(body, 'remove'));
    const variants: Variant[] = [];
    names.forEach((n, i) => {
      const name = n.trim();
      if (removed.has(String(i)) || !name) return;
      const typed = (weights[i] ?? '').trim();
      const weight = num(typed);
      if (weight === undefined)
        issues.push({
          field: `variants.${i}`,
          message: `weight ${typed ? `"${preview(typed)}" is not a number` : 'is required'} (thousandths: 500 is half)`,
        });
      const type = (types[i] ?? '').trim();
      const value = payloads[i] ?? '';
      if (type && !(PAYLOAD_TYPES as readonly string[]).includes(type))
        issues.push({
          field: `variants.${i}`,
          message: `payload type must be one of ${PAYLOAD_TYPES.join(', ')}`,
        });
      const { overrides, bad } = parseOverrides(pinned[i] ?? '');
      if (bad.length)
        issues.push({
          field: `variants.${i}`,
          message: `pinned: ${bad.map((b) => `"${preview(b)}"`).join(', ')} is not attribute=values (plan=pro, team; userId=42)`,
        });
      variants.push({
        name,
        weight: weight ?? 0,
        ...(type ? { payload: { type: type as (typeof PAYLOAD_TYPES)[number], value } } : {}),
        ...(overrides.length ? { overrides } : {}),
      });
    });
    return { ...f, variants };
  },
  prerequisites(f, body, ctx, issues) {
    const wanted = [...new Set([...all(body, 'prerequisite'), ...words(one(body, 'prerequisiteOther'))])]
      .map((p) => p.trim().toLowerCase())
      .filter(Boolean);
    for (const p of wanted) {
      if (p === f.name) continue; // the model refuses it, by its index
      if (ctx.prerequisitesOf(p) === undefined) {
        issues.push({ field: 'prerequisites', message: `no flag is named ${preview(p)}` });
        continue;
      }
      const cycle = pathBack(p, f.name, ctx);
      if (cycle)
        issues.push({
          field: 'prerequisites',
          message: `${[f.name, ...cycle].join(' → ')} would be a cycle, and every flag in it would be off`,
        });
    }
    return { ...f, prerequisites: wanted };
  },
  schedule(f, body, ctx, issues) {
    const { start: _s, end: _e, ...rest } = f;
    const start = bound('start', one(body, 'start'), ctx, issues);
    const end = bound('end', one(body, 'end'), ctx, issues);
    return { ...rest, ...(start ? { start } : {}), ...(end ? { end } : {}) };
  },
  threshold(f, body, _ctx, issues) {
    const { errorThreshold: _old, ...rest } = f;
    const errorsText = one(body, 'errors');
    const windowText = one(body, 'window');
    if (!errorsText && !windowText) return rest;
    const errors = num(errorsText);
    if (errors === undefined)
      issues.push({
        field: 'errorThreshold',
        message: `errors ${errorsText ? `"${preview(errorsText)}" is not a number` : 'is required with a window'}`,
      });
    const windowMs = windowOf(windowText);
    if (windowMs === undefined)
      issues.push({
        field: 'errorThreshold',
        message: `window ${windowText ? `"${preview(windowText)}" is not a duration` : 'is required with errors'}: a number and a unit, 30s, 5m, 1h`,
      });
    return { ...rest, errorThreshold: { errors: errors ?? 0, windowMs: windowMs ?? 0 } };
  },
};

/** `30s`, `5m`, `1h`, `1d` (or `500ms`) in milliseconds; the model checks the range (1 s to 24 h). */
function windowOf(text: string): number | undefined {
  const m = /^(\d{1,9})\s*(ms|s|m|h|d)$/.exec(text.toLowerCase());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(m[1]) * unit;
}

/**
 * A schedule bound as typed: empty removes it; ISO 8601 with a zone is kept; anything else is
 * read as `/flag schedule` reads it (in SCHEDULE_TIMEZONE) and stored in UTC.
 */
function bound(field: 'start' | 'end', text: string, ctx: EditContext, issues: FieldIssue[]) {
  if (!text) return undefined;
  if (text.includes('T') && parseDate(text) !== undefined) return text;
  const at = readTime(text, ctx.timeZone, ctx.now);
  if (at) return at.toISOString().replace('.000Z', 'Z');
  issues.push({
    field,
    message: `"${preview(text)}" is not a time I can read: use 2026-12-01 10:00 (read in ${ctx.timeZone}) or 2026-12-01T09:00:00Z; leave it empty for none`,
  });
  return undefined;
}

/** A chain of prerequisites from `from` back to `to`, or undefined when there is none. */
function pathBack(
  from: string,
  to: string,
  ctx: EditContext,
  seen = new Set<string>(),
): string[] | undefined {
  if (from === to) return [to];
  if (seen.has(from)) return undefined;
  seen.add(from);
  for (const next of ctx.prerequisitesOf(from) ?? []) {
    const rest = pathBack(next, to, ctx, seen);
    if (rest) return [from, ...rest];
  }
  return undefined;
}

const ROW_FIELDS = new Set(['conditions', 'variants', 'include', 'exclude']);

/**
 * The problems of a refused write, by field: the form's own (from `refuse`), or the model's for
 * the definition that was proposed (parseFlag says every one, each starting with its path).
 */
export function issuesOf(err: UserError, proposed: FlagInput | undefined): FieldIssue[] {
  const own = err.context.fields;
  if (Array.isArray(own)) return own as FieldIssue[];
  if (err.code !== 'INVALID_VALUE' || !proposed) return [];
  const parsed = parseFlag(proposed);
  if (parsed.ok) return [];
  return parsed.errors.map((line) => {
    const at = line.indexOf(': ');
    const path = at < 0 ? 'flag' : line.slice(0, at);
    const m = /^([A-Za-z]+)(?:\[(\d+)\]|\.(\d+|users|roles|guilds))?/.exec(path);
    const top = m?.[1] ?? 'flag';
    const sub = m?.[2] ?? m?.[3];
    // Rows and target lists have their own alert; anything else is said next to its field.
    const field = sub !== undefined && ROW_FIELDS.has(top) ? `${top}.${sub}` : top;
    return { field, message: at < 0 ? line : line.slice(at + 2) };
  });
}

/** The switch forms: the kill switch, or one environment in or out; `here` is this process's. */
export function switched(
  f: FlagDefinition,
  to: 'on' | 'off',
  env: string | undefined,
  here: string,
): { flag: FlagInput; warnings: string[] } {
  const warnings: string[] = [];
  if (env) {
    const environments =
      to === 'on' ? [...new Set([...f.environments, env])] : f.environments.filter((e) => e !== env);
    if (to === 'on' && !f.enabled)
      warnings.push('The kill switch is off, so it stays off everywhere until it is turned on.');
    if (to === 'off' && !environments.length)
      warnings.push('It is now on in no environment, which is off everywhere.');
    return { flag: { ...f, environments }, warnings };
  }
  if (to === 'off') return { flag: { ...f, enabled: false }, warnings };
  // On in no environment is on nowhere: as /flag on does, this process's environment is added.
  const environments = f.environments.length ? f.environments : [here];
  if (!f.environments.length)
    warnings.push(
      `It was on in no environment, which is on nowhere: this bot's environment, ${here}, was added.`,
    );
  if (f.rollout === 0)
    warnings.push('The rollout is 0%: it is on only for included users, roles and servers.');
  return { flag: { ...f, enabled: true, environments }, warnings };
}
