import { z } from 'zod';
import { UserError } from '../errors.js';
import { errorDetail, logger } from '../logger.js';
import { preview } from '../text.js';
import { isSealed } from './codec.js';
import { mergeLayers } from './merge.js';
import type { Actor } from './models.js';
import { present, sameValue } from './present.js';
import { storedValue } from './proposals.js';
import type { RegisteredKey, Registry } from './registry.js';
import { inheritsFrom } from './resolution.js';
import { checkRules, rulesFor, type CrossKeyRule } from './rules.js';
import { GLOBAL, parseScope, slotId, type Scope } from './scopes.js';
import type { ConfigService } from './service.js';
import type { RequestContext } from './types.js';

/**
 * The export file: every key's description and the value of each scope holding one, sensitive
 * values left out or sealed under the current encryption key. Built, read back and turned into
 * a plan of changes here, for /config export and import and for the npm scripts alike.
 */

export const EXPORT_FORMAT = 'config-bot-export';
export const FORMAT_VERSION = 1;
/** The largest file an import reads (1 MB). */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Values in one file, all keys and scopes together. */
export const MAX_ENTRIES = 1000;
const MAX_KEYS = 200;
const MAX_DEPTH = 16;
const MAX_STRING = 16_384;

/** What an export or import needs of the configuration service. */
export type TransferService = Pick<
  ConfigService,
  | 'keys'
  | 'definition'
  | 'isRegistered'
  | 'overrideScopes'
  | 'cachedVersion'
  | 'storedVersions'
  | 'environments'
  | 'environment'
  | 'scopeOf'
  | 'sealValue'
  | 'openValue'
  | 'put'
>;

const sealedSchema = z.strictObject({
  enc: z.enum(['aes-256-gcm:v1', 'aes-256-gcm:v2']),
  kid: z.string().max(16).optional(),
  iv: z.string().max(64),
  tag: z.string().max(64),
  data: z.string(),
});
const version = z.number().int().min(0);
const entrySchema = z.union([
  z.strictObject({ value: z.unknown(), version }),
  z.strictObject({ encrypted: sealedSchema, version }),
  z.strictObject({ omitted: z.literal('sensitive'), version }),
]);
const fileSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  formatVersion: z.number(),
  exportedAt: z.string().max(40),
  environments: z.array(z.string().max(64)).max(100),
  scope: z.string().max(40).optional(),
  secrets: z.enum(['omitted', 'encrypted']),
  encryptionKeyId: z.string().max(16).optional(),
  keys: z.record(
    z.string().max(64),
    z.strictObject({
      description: z.string().optional(),
      sensitive: z.boolean().optional(),
      values: z.record(z.string().max(40), entrySchema),
    }),
  ),
});

export type ExportFile = z.infer<typeof fileSchema>;
export type ExportEntry = z.infer<typeof entrySchema>;

/** A slot's current value, as stored (sensitive values in clear: never shown, never logged). */
interface SlotValue {
  key: string;
  scope: Scope;
  value: unknown;
  version: number;
}

/**
 * Every slot holding a value (the global one always: its default at version 0 when never set),
 * optionally only at `only`. Values come from the stored versions this process holds, in one read.
 */
async function currentSlots(svc: TransferService, keys: readonly string[], only?: Scope) {
  const wanted: SlotValue[] = [];
  for (const key of keys)
    for (const scope of [GLOBAL, ...svc.overrideScopes(key)])
      if (!only || scope === only)
        wanted.push({ key, scope, value: undefined, version: svc.cachedVersion(key, scope) });
  const docs = await svc.storedVersions(
    wanted.filter((w) => w.version > 0).map((w) => ({ slot: slotId(w.key, w.scope), version: w.version })),
  );
  for (const w of wanted) {
    if (w.version === 0) w.value = svc.definition(w.key).default;
    else {
      const doc = docs.get(`${slotId(w.key, w.scope)}@${w.version}`);
      if (!doc)
        throw new UserError('UNAVAILABLE', `Version ${w.version} of ${w.key} could not be read; try again.`);
      w.value = doc.value;
    }
  }
  return wanted;
}

/** Seals a sensitive value; refuses when no encryption key is configured (never writes it in clear). */
function seal(svc: TransferService, key: string, scope: Scope, value: unknown) {
  const sealed = svc.sealValue(slotId(key, scope), value);
  if (!isSealed(sealed))
    throw new UserError(
      'ENCRYPTION_REQUIRED',
      'secrets:true exports sensitive values encrypted, but CONFIG_ENCRYPTION_KEYS is not set on this bot. Nothing was exported.',
    );
  return sealed;
}

export interface ExportOptions {
  /** Only this scope (as typed: global, env:<name>, guild:<id>). Default: every scope. */
  scope?: string | null;
  /** Include sensitive values, sealed under the current encryption key. Default: left out. */
  secrets?: boolean;
  now?: Date;
}

export interface BuiltExport {
  file: ExportFile;
  text: string;
  /** Values written, and sensitive ones left out. */
  values: number;
  omitted: number;
}

/** The export file of the configuration as this process holds it (one read of the stored versions). */
export async function buildExport(svc: TransferService, opts: ExportOptions = {}): Promise<BuiltExport> {
  const only = opts.scope
    ? parseScope(opts.scope, {
        key: '*',
        allowed: ['global', 'env', 'guild'],
        environments: svc.environments,
      })
    : undefined;
  const keys = svc.keys();
  const defs = keys.map((k) => svc.definition(k));
  // Refused up front, even when no sensitive key holds a value yet: the admin asked for secrets.
  const probe = defs.find((d) => d.sensitive);
  if (opts.secrets && probe) seal(svc, probe.key, GLOBAL, '');
  const file: ExportFile = {
    format: EXPORT_FORMAT,
    formatVersion: FORMAT_VERSION,
    exportedAt: (opts.now ?? new Date()).toISOString(),
    environments: [...svc.environments],
    ...(only ? { scope: only } : {}),
    secrets: opts.secrets ? 'encrypted' : 'omitted',
    keys: {},
  };
  for (const def of defs)
    file.keys[def.key] = {
      description: def.description,
      ...(def.sensitive ? { sensitive: true } : {}),
      values: {},
    };
  let values = 0;
  let omitted = 0;
  for (const s of await currentSlots(svc, keys, only)) {
    const def = svc.definition(s.key);
    const target = file.keys[s.key]?.values;
    if (!target) continue;
    if (!def.sensitive || s.value === null || s.value === undefined) {
      target[s.scope] = { value: s.value ?? null, version: s.version };
      values++;
    } else if (opts.secrets) {
      const sealed = seal(svc, s.key, s.scope, s.value);
      file.encryptionKeyId ??= sealed.kid;
      target[s.scope] = { encrypted: sealed, version: s.version };
      values++;
    } else {
      target[s.scope] = { omitted: 'sensitive', version: s.version };
      omitted++;
    }
  }
  return { file, text: `${JSON.stringify(file, null, 2)}\n`, values, omitted };
}

// ---- reading a file ------------------------------------------------------------------------

const refuse = (why: string): never => {
  throw new UserError(
    'INVALID_VALUE',
    `Not an export file this bot can import: ${why}. Nothing was changed.`,
  );
};

/**
 * Reads an export file, refusing (one message, nothing else done) a file over 1 MB, not UTF-8
 * JSON, nested deeper than a configuration needs, with `__proto__`-like names, strings over 16 KB,
 * more than 1,000 values, another shape or another format version.
 */
export function parseExportFile(content: string | Uint8Array): ExportFile {
  const bytes = typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
  if (bytes > MAX_FILE_BYTES)
    refuse(`it is ${bytes} bytes, more than the ${MAX_FILE_BYTES} bytes (1 MB) an import reads`);
  let text = '';
  try {
    text = typeof content === 'string' ? content : new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    refuse('it is not UTF-8 text');
  }
  // Before JSON.parse: a hostile file must not get to build a deep structure at all.
  const depth = nestingDepth(text);
  if (depth > MAX_DEPTH) refuse(`it is nested ${depth} levels deep (at most ${MAX_DEPTH})`);
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    refuse('it is not valid JSON');
  }
  scanValues(raw);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return refuse('it is not a JSON object');
  const head = raw as Record<string, unknown>;
  if (head.format !== EXPORT_FORMAT) refuse(`its "format" is not "${EXPORT_FORMAT}"`);
  if (head.formatVersion !== FORMAT_VERSION)
    refuse(
      `it has format version ${preview(JSON.stringify(head.formatVersion) ?? 'none', 20)}; this bot reads version ${FORMAT_VERSION}`,
    );
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map(String).join('.') || 'the file';
    return refuse(`${preview(where, 80)}: ${issue?.message ?? 'wrong shape'}`);
  }
  const keys = Object.keys(parsed.data.keys);
  if (keys.length > MAX_KEYS) refuse(`it has ${keys.length} keys (at most ${MAX_KEYS})`);
  const entries = keys.reduce((n, k) => n + Object.keys(parsed.data.keys[k]?.values ?? {}).length, 0);
  if (entries > MAX_ENTRIES) refuse(`it has ${entries} values (at most ${MAX_ENTRIES})`);
  return parsed.data;
}

/** The deepest nesting of arrays and objects in JSON text, counted without parsing it. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** Walks a parsed file (without recursion) refusing prototype-polluting names and huge strings. */
function scanValues(root: unknown): void {
  const stack: unknown[] = [root];
  let seen = 0;
  while (stack.length) {
    const v = stack.pop();
    if (++seen > MAX_ENTRIES * 20) refuse(`it holds more than ${MAX_ENTRIES * 20} values`);
    if (typeof v === 'string' && v.length > MAX_STRING)
      refuse(`it holds a string of ${v.length} characters (at most ${MAX_STRING})`);
    if (typeof v !== 'object' || v === null) continue;
    for (const [name, child] of Object.entries(v)) {
      if (FORBIDDEN_NAMES.has(name)) refuse(`it uses the name "${name}", which is never a setting`);
      if (name.length > MAX_STRING) refuse(`it holds a name of ${name.length} characters`);
      stack.push(child);
    }
  }
}

// ---- planning an import --------------------------------------------------------------------

/** One change an import would make: the value to write and the version it was planned from. */
export interface PlannedChange {
  key: string;
  scope: Scope;
  value: unknown;
  expectedVersion: number;
}

/** What an import would do with one entry of the file (values as text, sensitive ones masked). */
export type PlanItem =
  | { status: 'changed'; key: string; scope: Scope; from: string; to: string }
  | { status: 'unchanged'; key: string; scope: Scope; shown: string }
  | { status: 'invalid'; key: string; scope: string; why: string }
  | { status: 'unknown'; key: string }
  | { status: 'omitted'; key: string; scope: string };

export interface ImportPlan {
  items: PlanItem[];
  /** The valid changes, in an order that keeps every cross-key rule at each step where one exists. */
  changes: PlannedChange[];
  exportedAt: string;
}

interface Candidate extends PlannedChange {
  def: RegisteredKey;
  from: string;
  to: string;
}

/**
 * Checks every entry of a file against today's rules (the key exists, the scope is allowed, the
 * value fits the key's kind, encrypted values open with CONFIG_ENCRYPTION_KEYS, cross-key rules
 * hold on the values the import would leave) and compares it with what is stored now.
 */
export async function planImport(
  svc: TransferService,
  file: ExportFile,
  opts: { rules?: readonly CrossKeyRule[] } = {},
): Promise<ImportPlan> {
  const registry: Registry = new Map(svc.keys().map((k) => [k, svc.definition(k)]));
  const rules = opts.rules ?? rulesFor(registry);
  const known = Object.keys(file.keys).filter((k) => svc.isRegistered(k));
  const current = new Map(
    (await currentSlots(svc, [...new Set([...known, ...rules.flatMap((r) => r.keys)])])).map((s) => [
      slotId(s.key, s.scope),
      s,
    ]),
  );
  const items: PlanItem[] = [];
  const candidates: Candidate[] = [];
  for (const [key, spec] of Object.entries(file.keys)) {
    if (!svc.isRegistered(key)) {
      items.push({ status: 'unknown', key: preview(key, 64) });
      continue;
    }
    const def = svc.definition(key);
    const seen = new Set<Scope>();
    for (const [typed, entry] of Object.entries(spec.values)) {
      const invalid = (why: string) =>
        items.push({ status: 'invalid', key, scope: preview(typed, 40), why: preview(why, 300) });
      try {
        const scope = svc.scopeOf(def, typed);
        if (seen.has(scope)) {
          invalid(`${scope} is given twice`);
          continue;
        }
        seen.add(scope);
        if ('omitted' in entry) {
          items.push({ status: 'omitted', key, scope });
          continue;
        }
        const raw = 'encrypted' in entry ? open(svc, key, scope, entry.encrypted) : entry.value;
        const { value } = storedValue(def, scope, raw);
        if (def.sensitive && value !== null && value !== undefined && !isSealed(svc.sealValue(key, value)))
          throw new UserError(
            'ENCRYPTION_REQUIRED',
            `${key} is sensitive and is stored encrypted, but this bot has no CONFIG_ENCRYPTION_KEYS`,
          );
        const now = current.get(slotId(key, scope));
        const shown = present(def, value);
        if (now && sameValue(def, now.value, value)) {
          items.push({ status: 'unchanged', key, scope, shown });
          continue;
        }
        candidates.push({
          key,
          scope,
          value,
          def,
          expectedVersion: svc.cachedVersion(key, scope),
          from: now ? present(def, now.value) : '(not set)',
          to: shown,
        });
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        invalid(err.message.replace(/ Nothing was changed\.$/, ''));
      }
    }
  }
  const state = new SlotState(registry, rules, svc.environment, current);
  for (const refused of state.dropViolations(candidates))
    items.push({ status: 'invalid', key: refused.key, scope: refused.scope, why: refused.why });
  const valid = candidates.filter(
    (c) => !items.some((i) => i.status === 'invalid' && i.key === c.key && i.scope === c.scope),
  );
  for (const c of valid)
    items.push({ status: 'changed', key: c.key, scope: c.scope, from: c.from, to: c.to });
  return {
    items,
    changes: state.order(valid).map(({ key, scope, value, expectedVersion }) => ({
      key,
      scope,
      value,
      expectedVersion,
    })),
    exportedAt: file.exportedAt,
  };
}

/** The value of an encrypted entry, or a refusal naming the key set it came from. */
function open(svc: TransferService, key: string, scope: Scope, sealed: unknown): unknown {
  try {
    return svc.openValue(slotId(key, scope), sealed);
  } catch (err) {
    logger.debug(
      `Could not open the encrypted value of ${slotId(key, scope)} in an import`,
      errorDetail(err),
    );
    const kid = isSealed(sealed) && sealed.kid ? ` (key id ${sealed.kid})` : '';
    throw new UserError(
      'ENCRYPTION_REQUIRED',
      `encrypted with a key${kid} this bot's CONFIG_ENCRYPTION_KEYS cannot open: the file comes from another key set`,
    );
  }
}

/**
 * Stored values as an import would leave them, for the cross-key rules: resolved like the service
 * resolves them (guild → this process's environment → global → default; merged for deep keys).
 */
class SlotState {
  private readonly held = new Map<string, { key: string; scope: Scope; value: unknown }>();

  constructor(
    private readonly registry: Registry,
    private readonly rules: readonly CrossKeyRule[],
    private readonly environment: string,
    current: ReadonlyMap<string, SlotValue>,
  ) {
    for (const [slot, s] of current) this.held.set(slot, s);
  }

  /** Removes, until none is left, the candidates that break a rule with all the others applied. */
  dropViolations(candidates: readonly Candidate[]): { key: string; scope: Scope; why: string }[] {
    const dropped: { key: string; scope: Scope; why: string }[] = [];
    let remaining = [...candidates];
    for (;;) {
      const trial = this.with(remaining);
      const broken = remaining.flatMap((c) => {
        const why = trial.violation(c);
        return why ? [{ c, why }] : [];
      });
      if (!broken.length) return dropped;
      for (const b of broken) dropped.push({ key: b.c.key, scope: b.c.scope, why: b.why });
      remaining = remaining.filter((c) => !broken.some((b) => b.c === c));
    }
  }

  /** The changes in an order where each keeps the rules given the ones before it (when one exists). */
  order<T extends Candidate>(changes: readonly T[]): T[] {
    let state = this.with([]);
    const out: T[] = [];
    const left = [...changes];
    while (left.length) {
      const at = left.findIndex((c) => !state.with([c]).violation(c));
      const [next] = left.splice(at < 0 ? 0 : at, 1);
      if (!next) break;
      out.push(next);
      state = state.with([next]);
    }
    return out;
  }

  private with(changes: readonly PlannedChange[]): SlotState {
    const next = new SlotState(this.registry, this.rules, this.environment, new Map());
    for (const [slot, s] of this.held) next.held.set(slot, s);
    for (const c of changes) next.held.set(slotId(c.key, c.scope), c);
    return next;
  }

  /** What is wrong with the rules once `c` holds, at its scope and the scopes inheriting it. */
  private violation(c: PlannedChange): string | undefined {
    const affected = new Set<Scope>([c.scope]);
    for (const rule of this.rules) {
      if (!rule.keys.includes(c.key)) continue;
      for (const s of this.held.values())
        if (
          rule.keys.includes(s.key) &&
          inheritsFrom(s.scope, c.scope, this.environment) &&
          !this.held.has(slotId(c.key, s.scope))
        )
          affected.add(s.scope);
    }
    try {
      for (const at of affected)
        checkRules(this.registry, this.rules, c.key, this.at(c.key, at), (k) => this.at(k, at), at);
      return undefined;
    } catch (err) {
      if (err instanceof UserError) return err.message.replace(/ Nothing was changed\.$/, '');
      throw err;
    }
  }

  private at(key: string, scope: Scope): unknown {
    const chain: Scope[] = [GLOBAL];
    if (scope.startsWith('env:')) chain.push(scope);
    if (scope.startsWith('guild:')) chain.push(`env:${this.environment}`, scope);
    const layers = chain.map((s) => this.held.get(slotId(key, s))?.value);
    if (this.registry.get(key)?.merge === 'deep') return mergeLayers(layers);
    const found = layers.reverse().find((v) => v !== undefined);
    return found !== undefined ? found : this.registry.get(key)?.default;
  }
}

// ---- applying ------------------------------------------------------------------------------

export type ApplyResult =
  | { key: string; scope: Scope; status: 'imported'; version: number }
  | { key: string; scope: Scope; status: 'unchanged' | 'failed' | 'requested'; message: string };

/**
 * Applies planned changes, one version each with action `import`, through the same checks as a
 * set; a change whose key moved since the plan (`expectedVersion`) is refused. Every change is
 * tried and reported, whatever happened to the others. The one step a confirmed import runs.
 */
export async function applyImport(
  svc: Pick<ConfigService, 'put' | 'approvalsFor' | 'requestBatch'>,
  changes: readonly PlannedChange[],
  actor: Actor,
  reason: string | undefined,
  ctx: RequestContext = {},
): Promise<ApplyResult[]> {
  // An import touching a key that needs approvals becomes one change request, as a whole.
  if (svc.approvalsFor(changes.map((c) => c.key)).needed > 0) {
    const request = await svc.requestBatch('import', changes, actor, reason, ctx);
    const message = `Sent for approval as change request ${request.id} (${request.required} approval${request.required === 1 ? '' : 's'} needed)`;
    return changes.map((c) => ({ key: c.key, scope: c.scope, status: 'requested', message }));
  }
  const out: ApplyResult[] = [];
  for (const c of changes) {
    try {
      const r = await svc.put('import', c.key, c.value, actor, reason, ctx, {
        scope: c.scope,
        expectedVersion: c.expectedVersion,
      });
      out.push({ key: c.key, scope: c.scope, status: 'imported', version: r.version });
    } catch (err) {
      if (err instanceof UserError)
        out.push({
          key: c.key,
          scope: c.scope,
          // A key whose impact needs approvals became a change request (the message names it).
          status:
            err.code === 'UNCHANGED'
              ? 'unchanged'
              : err.code === 'APPROVAL_REQUIRED'
                ? 'requested'
                : 'failed',
          message: err.message,
        });
      else {
        logger.error(`Import of ${slotId(c.key, c.scope)} failed unexpectedly`, errorDetail(err));
        out.push({ key: c.key, scope: c.scope, status: 'failed', message: 'unexpected error (see the log)' });
      }
    }
  }
  return out;
}

// ---- words ---------------------------------------------------------------------------------

const where = (scope: string) => (scope === GLOBAL ? '' : ` at ${scope}`);

/** One line per entry of a plan, grouped the way both the bot and the script show them. */
export function planLines(plan: ImportPlan): Record<PlanItem['status'], string[]> {
  const out: Record<PlanItem['status'], string[]> = {
    changed: [],
    unchanged: [],
    invalid: [],
    unknown: [],
    omitted: [],
  };
  for (const i of plan.items) {
    if (i.status === 'changed')
      out.changed.push(`${i.key}${where(i.scope)}: ${preview(i.from, 60)} → ${preview(i.to, 60)}`);
    else if (i.status === 'unchanged')
      out.unchanged.push(`${i.key}${where(i.scope)}: ${preview(i.shown, 60)}`);
    else if (i.status === 'invalid') out.invalid.push(`${i.key}${where(i.scope)}: ${i.why}`);
    else if (i.status === 'unknown') out.unknown.push(`${i.key}: not a setting of this bot`);
    else out.omitted.push(`${i.key}${where(i.scope)}: sensitive, not in the file`);
  }
  return out;
}

/** One line per applied change. */
export function resultLine(r: ApplyResult): string {
  return r.status === 'imported'
    ? `${r.key}${where(r.scope)}: imported as v${r.version}`
    : `${r.key}${where(r.scope)}: ${r.status}: ${r.message.replace(/ Nothing was changed\.$/, '')}`;
}
