import { ApprovalRequired, approvalsNeeded } from './gate.js';
import {
  impactLines,
  impactOf,
  type ImpactSource,
  type ProcessList,
  type ScheduleForecaster,
} from './impact.js';
import { formatDuration } from '../config/kinds.js';
import type { LiveValues } from '../config/live-values.js';
import { MASK, present, sameValue } from '../config/present.js';
import { requireEncryption, storedValue, unchangedError } from '../config/proposals.js';
import type { ConfigReader } from '../config/reader.js';
import type { ImpactLevel, RegisteredKey, Registry } from '../config/registry.js';
import {
  REQUEST_KINDS,
  type ChangeRequest,
  type ChangeRequests,
  type PlannedChange,
  type RequestKind,
} from './requests.js';
import { parentOf, type Resolution } from '../config/resolution.js';
import type { RuleCheck } from '../config/rule-check.js';
import { GLOBAL, slotId, type Scope } from '../config/scopes.js';
import type { RequestContext, WriteOptions } from '../config/types.js';
import { checkReason } from '../config/validate.js';
import type { Proposal } from '../config/writer.js';
import { UserError } from '../base/errors.js';
import type { Actor, VersionAction } from '../storage/config-models.js';

/** Slots that are not registry keys (flags), as change requests need them (see registerSlotOwner). */
export interface SlotOwner {
  owns(slot: string): boolean;
  heldVersion(slot: string): number;
  /** The slot's value as people read it in a request. */
  shown(slot: string): string;
  apply(change: PlannedChange, request: ChangeRequest, approvers: Actor[]): Promise<{ version: number }>;
}

export interface DeskParts {
  registry: Registry;
  values: LiveValues;
  resolution: Resolution;
  reader: ConfigReader;
  rules: RuleCheck;
  requests: ChangeRequests;
  /** APPROVALS_REQUIRED: approvals per impact level. */
  approvals: Partial<Record<ImpactLevel, number>>;
  /** APPROVAL_TTL: how long a change request stays open. */
  approvalTtlMs: number;
  environment: string;
  /** Whether sensitive values can be encrypted (CONFIG_ENCRYPTION_KEYS is set). */
  encrypts: boolean;
}

/**
 * Where a change that needs approvals becomes a change request: checked as its write would be,
 * stored against the versions held now, with its impact preview and its values' warnings. Also
 * what requests need to show and apply changes of slots that are not keys (flags' SlotOwner).
 */
export class ApprovalDesk {
  private readonly slotOwners: SlotOwner[] = [];
  /** What the impact preview of change requests reads besides values: the jobs, the live processes. */
  private impactSources: { scheduler?: ScheduleForecaster; instances?: ProcessList } = {};

  constructor(private readonly p: DeskParts) {}

  /** The version of a slot this process holds (a flag's from its owner). */
  heldVersion(key: string, scope: Scope): number {
    return this.ownerOf(key)?.heldVersion(key) ?? this.p.values.peek(slotId(key, scope))?.version ?? 0;
  }

  /** A slot's value as people read it in a request (a flag's from its owner). */
  shown(key: string, scope: Scope): string {
    const owner = this.ownerOf(key);
    if (owner) return owner.shown(key);
    const def = this.p.registry.get(key);
    return def ? this.shownAt(def, scope) : '(none)';
  }

  /** What the impact preview reads of the configuration. */
  private impactSource(): ImpactSource {
    const { reader, approvals } = this.p;
    return {
      environments: reader.environments,
      environment: reader.environment,
      approvals,
      definition: (input) => reader.definition(input),
      overrideScopes: (key) => reader.overrideScopes(key),
      resolve: (input, at) => reader.resolve(input, at),
    };
  }

  /** The scheduler and instance list of this process, for the impact preview kept with change requests. */
  useImpactSources(sources: { scheduler?: ScheduleForecaster; instances?: ProcessList }): void {
    this.impactSources = sources;
  }

  /**
   * Lets the owner of slots that are not registry keys (flags) take part in change requests: it
   * says which slots are its, their versions, how they read, and applies an approved change.
   */
  registerSlotOwner(owner: SlotOwner): void {
    this.slotOwners.push(owner);
  }

  ownerOf(slot: string): SlotOwner | undefined {
    return this.slotOwners.find((o) => o.owns(slot));
  }

  /**
   * The impact preview of one planned change of a registry key, as lines (change requests keep
   * it; a rebase computes it again). Undefined for other slots (flags).
   */
  async impactPreview(change: PlannedChange, warnings: string[] = []): Promise<string[] | undefined> {
    const def = this.p.registry.get(change.key);
    if (!def) return undefined;
    const held = this.p.values.peek(slotId(def.key, change.scope));
    const unset = !held || Boolean(held.unset);
    const show = (v: unknown) => (def.sensitive ? MASK : present(def, v));
    const impact = await impactOf(
      {
        config: this.impactSource(),
        scheduler: this.impactSources.scheduler,
        instances: this.impactSources.instances,
      },
      {
        key: def.key,
        scope: change.scope,
        action: change.action,
        currentVersion: held?.version ?? 0,
        current: unset ? '(no override)' : show(held?.value),
        next:
          change.action === 'unset'
            ? show(this.p.resolution.at(def.key, parentOf(change.scope, this.p.environment)))
            : show(change.value),
        warnings,
        ...(change.action === 'unset' ? {} : { value: change.value }),
      },
    );
    return impactLines(impact);
  }

  /** The value a slot holds as people see it in a change request (masked when sensitive). */
  shownAt(def: RegisteredKey, scope: Scope): string {
    const held = this.p.values.peek(slotId(def.key, scope));
    if (!held || held.unset) return '(none)';
    return def.sensitive ? MASK : present(def, held.value);
  }

  /** The approvals a set of keys needs together: the most any of them needs, and its level. */
  approvalsFor(keys: readonly string[]): { needed: number; level: ImpactLevel } {
    let best: { needed: number; level: ImpactLevel } = { needed: 0, level: 'none' };
    for (const key of keys) {
      const def = this.p.registry.get(key);
      if (!def) continue;
      const needed = approvalsNeeded(def, this.p.approvals);
      if (needed > best.needed) best = { needed, level: def.impact };
    }
    return best;
  }

  /**
   * A snapshot restore or an import that touches a key needing approvals: the whole operation
   * becomes one change request (every change, checked as `put` would check it, against the
   * versions of its preview), applied as versions with `action` once approved.
   */
  async requestBatch(
    action: 'restore' | 'import',
    changes: readonly { key: string; scope: Scope; value: unknown; expectedVersion: number }[],
    actor: Actor,
    reason: string | undefined,
    ctx: RequestContext = {},
  ): Promise<ChangeRequest> {
    const { needed, level } = this.approvalsFor(changes.map((c) => c.key));
    const planned = changes.map((c) => {
      const def = this.p.reader.definition(c.key);
      const checked = storedValue(def, c.scope, c.value);
      requireEncryption(def, checked.value, this.p.encrypts);
      const show = (v: unknown) => (def.sensitive ? MASK : present(def, v));
      return {
        key: def.key,
        scope: c.scope,
        action,
        value: checked.value,
        baseVersion: c.expectedVersion,
        before: this.shownAt(def, c.scope),
        after: show(checked.value),
        ...(checked.warnings.length ? { warnings: checked.warnings } : {}),
      };
    });
    return this.p.requests.create({
      kind: action,
      requester: actor,
      ...(reason ? { reason: checkReason(reason) ?? reason } : {}),
      level,
      required: needed,
      changes: planned,
      preview: [
        `${planned.length} change${planned.length === 1 ? '' : 's'}, applied key by key once approved; a key that moves meanwhile clears the approvals.`,
      ],
      ttlMs: this.p.approvalTtlMs,
      ctx,
    });
  }

  /** A scheduled change of a key that needs approvals, stored as a change request (see TimedChanges.schedule). */
  async requestSchedule(
    def: RegisteredKey,
    scope: Scope,
    value: unknown,
    display: string,
    runAt: Date,
    forMs: number | undefined,
    needed: number,
    actor: Actor,
    reason: string | undefined,
    ctx: RequestContext,
    warnings: readonly string[] = [],
  ): Promise<never> {
    const held = this.p.values.peek(slotId(def.key, scope));
    const request = await this.p.requests.create({
      kind: 'set',
      requester: actor,
      ...(reason ? { reason } : {}),
      level: def.impact,
      required: needed,
      changes: [
        {
          key: def.key,
          scope,
          action: 'scheduled',
          value,
          baseVersion: held?.version ?? 0,
          runAt,
          ...(forMs !== undefined ? { forMs } : {}),
          before: this.shownAt(def, scope),
          after: `${display} at ${runAt.toISOString()}${forMs !== undefined ? ` for ${formatDuration(forMs)}` : ''}`,
          ...(warnings.length ? { warnings: [...warnings] } : {}),
        },
      ],
      preview: [
        'Approving schedules it: the value applies at its time, checked against the rules of that moment.',
      ],
      ttlMs: this.p.approvalTtlMs,
      ctx,
    });
    throw new ApprovalRequired(request);
  }

  /**
   * A write that needs approvals, checked as the write itself would be (expected version, already
   * that value, cross-key rules), stored as a change request against the version held now.
   */
  async requestFor(
    def: RegisteredKey,
    scope: Scope,
    requested: VersionAction,
    action: VersionAction,
    propose: () => Proposal,
    needed: number,
    actor: Actor,
    reason: string | undefined,
    ctx: RequestContext,
    opts: WriteOptions,
  ): Promise<ChangeRequest> {
    const held = this.p.values.peek(slotId(def.key, scope));
    const baseVersion = held?.version ?? 0;
    const unset = !held || Boolean(held.unset);
    const where = scope === GLOBAL ? '' : ` at ${scope}`;
    if (opts.expectedVersion !== undefined && baseVersion !== opts.expectedVersion)
      throw new UserError(
        'CONFLICT',
        `${def.key}${where} changed since this preview (v${opts.expectedVersion} → v${baseVersion}); nothing was changed. Run the command again to see what it would do now.`,
        { key: def.key },
      );
    const p = propose();
    const unchanged = action === 'unset' ? unset : !unset && sameValue(def, p.value, held?.value);
    if (unchanged) throw unchangedError(def, action, held?.value, p.restoredFrom, scope);
    if (action === 'unset') {
      this.p.rules.check(def, scope, this.p.resolution.at(def.key, parentOf(scope, this.p.environment)));
    } else {
      this.p.resolution.checkMerged(def, scope, p.value);
      this.p.rules.check(def, scope, this.p.resolution.merged(def, scope, p.value));
    }
    const show = (v: unknown) => (def.sensitive ? MASK : present(def, v));
    // The impact preview as it stands when the request is made (per environment, jobs' next
    // runs, restart, processes, the way back), kept with the request for its reviewers. The
    // value's warnings are kept on its change instead, so they outlive a preview computed again.
    const preview =
      (await this.impactPreview({
        key: def.key,
        scope,
        action,
        baseVersion,
        ...(action === 'unset' ? {} : { value: p.value }),
      })) ?? [];
    return this.p.requests.create({
      kind: (REQUEST_KINDS as readonly string[]).includes(requested) ? (requested as RequestKind) : 'set',
      requester: actor,
      ...(reason ? { reason } : {}),
      level: def.impact,
      required: needed,
      changes: [
        {
          key: def.key,
          scope,
          action,
          ...(action === 'unset' ? {} : { value: p.value }),
          ...(p.restoredFrom !== undefined ? { restoredFrom: p.restoredFrom } : {}),
          baseVersion,
          ...(opts.forMs !== undefined ? { forMs: opts.forMs } : {}),
          before: this.shownAt(def, scope),
          after: `${action === 'unset' ? '(inherits again)' : show(p.value)}${opts.forMs !== undefined ? ` for ${formatDuration(opts.forMs)}` : ''}`,
          ...(action !== 'unset' && p.warnings.length ? { warnings: p.warnings } : {}),
        },
      ],
      preview,
      ttlMs: this.p.approvalTtlMs,
      ctx,
    });
  }
}
