import { UserError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import { preview } from '../base/text.js';
import { isSealed } from '../storage/codec.js';
import { mergeLayers } from '../config/merge.js';
import type { Actor } from '../storage/config-models.js';
import { present, sameValue } from '../config/present.js';
import { storedValue } from '../config/proposals.js';
import type { RegisteredKey, Registry } from '../config/registry.js';
import { inheritsFrom } from '../config/resolution.js';
import { checkRules, rulesFor, type CrossKeyRule } from '../config/rules.js';
import { GLOBAL, slotId, type Scope } from '../config/scopes.js';
import type { ConfigService } from '../config/service.js';
import type { RequestContext } from '../config/types.js';
import { currentSlots, type ExportFile, type SlotValue, type TransferService } from './export-file.js';

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
