import { DatabaseUnavailableError, UserError } from '../base/errors.js';
import type { ApprovalDesk } from '../approvals/desk.js';
import type { ChangeBus } from '../changes/bus.js';
import type { ConfigStore } from '../storage/config-store.js';
import type { Actor, VersionAction } from '../storage/config-models.js';
import type { DatabaseHealth } from '../storage/health.js';
import { ApprovalRequired, approvalsNeeded } from '../approvals/gate.js';
import type { AuditLog } from './audit-log.js';
import type { EnvOverride } from './env-overrides.js';
import type { LiveValues } from './live-values.js';
import { sameValue } from './present.js';
import { defaultOf, parseTyped, requireEncryption, storedValue } from './proposals.js';
import type { ConfigReader } from './reader.js';
import type { ConfigRecords } from './records.js';
import type { ImpactLevel, RegisteredKey, Registry } from './registry.js';
import type { ChangeRequest, PlannedChange } from '../approvals/requests.js';
import { parentOf, type Resolution } from './resolution.js';
import type { RuleCheck } from './rule-check.js';
import type { Refusals } from './refusals.js';
import type { ConfigPreviews } from './previews.js';
import type { ScheduleStore } from '../storage/schedules.js';
import { GLOBAL, slotId, type Scope } from './scopes.js';
import { refuseTimedSensitive, TimedChanges } from '../timed/timed.js';
import type { RequestContext, WriteOptions, WriteSuccess } from './types.js';
import { checkReason, resolveKey } from './validate.js';
import { unchangedError } from './proposals.js';
import type { Proposal, Repaired, VersionWriter } from './writer.js';

export interface WriterParts {
  /** Where this process's commits are announced with their log position. */
  bus: ChangeBus;
  registry: Registry;
  values: LiveValues;
  resolution: Resolution;
  reader: ConfigReader;
  records: ConfigRecords;
  rules: RuleCheck;
  desk: ApprovalDesk;
  refusals: Refusals;
  previews: ConfigPreviews;
  versions: VersionWriter;
  store: ConfigStore;
  schedules: ScheduleStore;
  audit: AuditLog;
  health: DatabaseHealth;
  overrides: ReadonlyMap<string, EnvOverride>;
  /** APPROVALS_REQUIRED: approvals per impact level. */
  approvals: Partial<Record<ImpactLevel, number>>;
  environment: string;
  /** Whether sensitive values can be encrypted (CONFIG_ENCRYPTION_KEYS is set). */
  encrypts: boolean;
  /** Whether the service is connected to the database (false while it runs from its copy). */
  attached(): boolean;
}

/**
 * Every change of a value: set, put (restore, import), rollback and reset, and their previews,
 * through one write path. Each is validated (kinds, cross-key rules), gated (a change that needs
 * approvals becomes a change request), committed as a version by compare-and-set, applied to
 * this process's values and announced; every attempt, refused ones included, is audited.
 * Temporary and scheduled changes (TimedChanges) are its own.
 */
export class ConfigWriter {
  /** Temporary (`for:`) and scheduled (`at:`) changes. */
  readonly timed: TimedChanges;
  constructor(private readonly p: WriterParts) {
    this.timed = new TimedChanges({
      registry: p.registry,
      schedules: p.schedules,
      audit: p.audit,
      health: p.health,
      attached: () => p.attached(),
      scopeOf: (def, typed) => p.reader.scopeOf(def, typed),
      heldVersion: (slot) => p.values.peek(slot)?.version ?? 0,
      inherited: (key, scope) => p.resolution.at(key, parentOf(scope, p.environment)),
      storedVersion: (slot, version) => p.records.storedVersion(slot, version),
      write: (...args) => this.write(...args),
      approvalsNeeded: (def) => approvalsNeeded(def, p.approvals),
      requestSchedule: (...args) => p.desk.requestSchedule(...args),
      refused: (err, action, row) => p.refusals.refused(err, action, row),
    });
  }
  private get encrypts(): boolean {
    return this.p.encrypts;
  }
  // ---- writes ------------------------------------------------------------------------------

  /**
   * Sets a key from what a user typed, at `opts.scope`. With `opts.forMs` the value is temporary:
   * the value it replaced comes back then (an override that did not exist is removed), unless
   * someone changed the key at that scope in between. Throws UserError (audited) when refused.
   */
  async set(
    input: string,
    value: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: WriteOptions = {},
  ): Promise<WriteSuccess> {
    const result = await this.write('set', input, actor, reason, ctx, opts, (def, scope) => {
      const parsed = parseTyped(def, scope, value);
      requireEncryption(def, parsed.value, this.encrypts);
      if (opts.forMs !== undefined) refuseTimedSensitive(def);
      return () => ({ value: parsed.value, warnings: parsed.warnings });
    });
    if (opts.forMs === undefined) return result;
    return this.timed.expireLater(result, opts.forMs, actor, reason);
  }
  /**
   * Writes a typed value (from a snapshot or an export file) at `opts.scope`, as a version with
   * `action`, through the same checks as set: today's rules for the key, cross-key rules,
   * encryption of sensitive values, `expectedVersion`. Throws UserError (audited) when refused,
   * UNCHANGED when the key already holds it.
   */
  put(
    action: 'restore' | 'import',
    input: string,
    value: unknown,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: Omit<WriteOptions, 'forMs'> = {},
  ): Promise<WriteSuccess> {
    return this.write(action, input, actor, reason, ctx, opts, (def, scope) => {
      const checked = storedValue(def, scope, value);
      requireEncryption(def, checked.value, this.encrypts);
      return () => checked;
    });
  }
  /** Restores the value of an earlier version, as a new version. Throws UserError (audited) when refused. */
  rollback(
    input: string,
    toVersion: number,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: WriteOptions = {},
  ): Promise<WriteSuccess> {
    return this.write('rollback', input, actor, reason, ctx, opts, async (def, scope) => {
      const checked = await this.p.previews.rollbackTarget(def, scope, toVersion);
      return () => ({ ...checked, restoredFrom: toVersion });
    });
  }
  /** Sets a key back to its default, as a new version. Throws UserError (audited) when refused. */
  reset(
    input: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: WriteOptions = {},
  ): Promise<WriteSuccess> {
    // At an override scope a reset removes the override (action unset): the key inherits again.
    return this.write('reset', input, actor, reason, ctx, opts, (def) => () => defaultOf(def));
  }
  /**
   * The one write path. `prepare` validates what can be checked once (input, target version)
   * and returns a function computing the new value from fresh state on each attempt. The scope
   * is read from `opts.scope`; a reset at an override scope removes the override (`unset`).
   */
  async write(
    requested: VersionAction,
    input: string,
    actor: Actor,
    rawReason: string | undefined,
    ctx: RequestContext,
    opts: WriteOptions,
    prepare: (def: RegisteredKey, scope: Scope) => (() => Proposal) | Promise<() => Proposal>,
  ): Promise<WriteSuccess> {
    let key = input.slice(0, 64);
    let scope: Scope = GLOBAL;
    let action = requested;
    let reason: string | undefined;
    let oldValue: unknown;
    let proposed: unknown;
    try {
      reason = checkReason(rawReason);
      const def = resolveKey(this.p.registry, input);
      key = def.key;
      scope = this.p.reader.scopeOf(def, opts.scope);
      if (requested === 'reset' && scope !== GLOBAL) action = 'unset';
      if (!this.p.attached())
        throw new DatabaseUnavailableError('not connected yet (started from the last-known-good copy)');
      const propose = await prepare(def, scope);
      // Expiries and scheduled values carried out later went through approvals when planned.
      const needed = opts.approval || opts.timed ? 0 : approvalsNeeded(def, this.p.approvals);
      if (needed > 0) {
        const request = await this.p.desk.requestFor(
          def,
          scope,
          requested,
          action,
          propose,
          needed,
          actor,
          reason,
          ctx,
          opts,
        );
        throw new ApprovalRequired(request);
      }
      const where = scope === GLOBAL ? '' : ` at ${scope}`;
      // An approved request's versions say which request and who approved it.
      const outcome = await this.p.versions.commit(
        def,
        scope,
        action,
        actor,
        reason,
        ctx,
        (cur) => {
          if (opts.expectedVersion !== undefined && cur.version !== opts.expectedVersion) {
            throw new UserError(
              'CONFLICT',
              `${def.key}${where} changed since this preview (v${opts.expectedVersion} → v${cur.version}); nothing was changed. Run the command again to see what it would do now.`,
              { key: def.key },
            );
          }
          oldValue = cur.unset ? undefined : cur.value;
          const p = propose();
          proposed = action === 'unset' ? undefined : p.value;
          // What the key will resolve to at this scope; unchanged is not a violation, whatever the
          // other keys hold: the writer says so instead.
          if (action === 'unset') {
            if (!cur.unset)
              this.p.rules.check(
                def,
                scope,
                this.p.resolution.at(def.key, parentOf(scope, this.p.environment)),
              );
          } else if (cur.unset || !sameValue(def, p.value, cur.value)) {
            this.p.resolution.checkMerged(def, scope, p.value);
            this.p.rules.check(def, scope, this.p.resolution.merged(def, scope, p.value));
          }
          return p;
        },
        opts.approval ?? {},
      );
      this.p.values.applyAll(outcome.repaired);
      if (outcome.status === 'unchanged')
        throw unchangedError(def, action, outcome.current.value, outcome.restoredFrom, scope);
      // Followers of the log (the feed, its streams) take it from the commit, not from a read
      // of the log; announced just before it is applied here, in the same synchronous step.
      if (outcome.seq !== undefined)
        this.p.bus.emit('committed', {
          seq: outcome.seq,
          slot: outcome.version.key,
          version: outcome.version.version,
          action: outcome.version.action,
          actor: outcome.version.actor,
          at: outcome.version.createdAt,
          value: outcome.version.action === 'unset' ? undefined : outcome.version.value,
        });
      this.p.values.apply(def, outcome.version, outcome.previous.unset ? undefined : outcome.previous.value);
      const forced = this.p.overrides.get(def.key);
      return {
        key,
        scope,
        action,
        version: outcome.version.version,
        value:
          action === 'unset'
            ? this.p.resolution.at(def.key, parentOf(scope, this.p.environment))
            : outcome.version.value,
        oldValue: outcome.previous.unset ? undefined : outcome.previous.value,
        oldVersion: outcome.previous.version,
        warnings: forced
          ? [
              ...outcome.warnings,
              `This process uses ${forced.variable} from its environment: the stored value has no effect here until that variable is removed.`,
            ]
          : outcome.warnings,
        ...(outcome.version.restoredFrom !== undefined ? { restoredFrom: outcome.version.restoredFrom } : {}),
        ...(outcome.seq !== undefined ? { seq: outcome.seq } : {}),
        at: outcome.version.createdAt,
      };
    } catch (err) {
      // Not a refusal: the change became a request (its creation is audited by the requests).
      if (err instanceof ApprovalRequired) throw err;
      const known = this.p.registry.has(key);
      return this.p.refusals.refused(err, action, {
        key,
        ...(scope !== GLOBAL ? { scope } : {}),
        actor,
        reason,
        oldValue: known ? (oldValue ?? this.p.values.held(slotId(key, scope))?.value) : undefined,
        newValue: known ? proposed : undefined,
        ...ctx,
      });
    }
  }
  /**
   * Applies one approved change: a value now (temporary ones then expire as planned), or, for a
   * scheduled change, the schedule itself (the value applies at its time).
   */
  async applyApproved(
    change: PlannedChange,
    request: ChangeRequest,
    approvers: Actor[],
  ): Promise<{ version: number; outcome?: string }> {
    const approval = { request: request.id, approvers };
    if (change.runAt) {
      const def = this.p.reader.definition(change.key);
      const planned = await this.timed.schedule(
        change.key,
        def.format(change.value as never),
        change.runAt,
        request.requester,
        request.reason,
        request.ctx ?? {},
        { scope: change.scope, ...(change.forMs !== undefined ? { forMs: change.forMs } : {}), approval },
      );
      return {
        version: change.baseVersion,
        outcome: `scheduled for ${planned.runAt.toISOString()} (id ${planned.id})`,
      };
    }
    // An apply cut short (its process died) may have written this change already: it was written
    // from its base version, so as the next one, recorded with this request. Resumed, it is
    // completed (current value, audit row) and reported applied, not refused as moved since.
    const slot = slotId(change.key, change.scope);
    const written =
      change.forMs === undefined ? await this.p.store.version(slot, change.baseVersion + 1) : null;
    if (written?.request === request.id) {
      const repaired: Repaired[] = [];
      await this.p.versions.repairKey(slot, repaired);
      this.p.values.applyAll(repaired);
      return { version: written.version };
    }
    const result = await this.write(
      change.action === 'unset' ? 'reset' : change.action,
      change.key,
      request.requester,
      request.reason,
      request.ctx ?? {},
      { scope: change.scope, expectedVersion: change.baseVersion, approval },
      () => () => ({
        value: change.value,
        warnings: [],
        ...(change.restoredFrom !== undefined ? { restoredFrom: change.restoredFrom } : {}),
      }),
    );
    if (change.forMs === undefined) return result;
    const timed = await this.timed.expireLater(result, change.forMs, request.requester, request.reason);
    return {
      version: result.version,
      outcome: `applied as v${result.version}${timed.until ? `, until ${timed.until.at.toISOString()}` : ''}`,
    };
  }
}
