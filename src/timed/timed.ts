import { ApprovalRequired } from '../approvals/gate.js';
import { DatabaseUnavailableError, UserError } from '../base/errors.js';
import type { DatabaseHealth } from '../storage/health.js';
import { errorDetail, logger } from '../base/logger.js';
import type { AuditLog, AuditRow } from '../config/audit-log.js';
import type { Actor, AuditAction, ConfigVersionDoc, VersionAction } from '../storage/config-models.js';
import { present } from '../config/present.js';
import { defaultOf, parseTyped, storedValue } from '../config/proposals.js';
import type { RegisteredKey, Registry } from '../config/registry.js';
import { ScheduleStore, type ScheduleDoc } from '../storage/schedules.js';
import { GLOBAL, slotId, type Scope } from '../config/scopes.js';
import type { RequestContext, ScheduledChange, WriteOptions, WriteSuccess } from '../config/types.js';
import { checkReason, resolveKey } from '../config/validate.js';
import type { Proposal } from '../config/writer.js';

const READ_UNAVAILABLE = 'Database unavailable; try again in a moment.';

/** The service's write path, as timed changes use it (see ConfigService.write). */
export type WriteFn = (
  requested: VersionAction,
  input: string,
  actor: Actor,
  reason: string | undefined,
  ctx: RequestContext,
  opts: WriteOptions,
  prepare: (def: RegisteredKey, scope: Scope) => (() => Proposal) | Promise<() => Proposal>,
) => Promise<WriteSuccess>;

/**
 * What timed changes need from the service that owns them, handed over by it (so this module
 * does not import the service, and the service's write path stays its own).
 */
export interface TimedChangesHost {
  registry: Registry;
  schedules: ScheduleStore;
  audit: AuditLog;
  health: DatabaseHealth;
  /** Whether the service is attached to the database (not running from its last-known copy). */
  attached(): boolean;
  scopeOf(def: RegisteredKey, typed: string | null | undefined): Scope;
  /** The version this process holds of a slot (0 when none). */
  heldVersion(slot: string): number;
  /** What a key inherits at `scope` when that scope holds nothing. */
  inherited(key: string, scope: Scope): unknown;
  storedVersion(slot: string, version: number): Promise<ConfigVersionDoc | undefined>;
  write: WriteFn;
  /** Approvals a change of the key needs. */
  approvalsNeeded(def: RegisteredKey): number;
  /** Stores a scheduled change that needs approvals as a change request; throws ApprovalRequired. */
  requestSchedule(
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
    warnings: readonly string[],
  ): Promise<never>;
  refused(
    err: unknown,
    action: AuditAction,
    row: Omit<AuditRow, 'action' | 'status' | 'error'>,
  ): Promise<never>;
}

/**
 * Temporary values (`for:`) and scheduled changes (`at:`): planning them, carrying them out when
 * due (ScheduleRunner holds the lease and calls apply), cancelling them, and listing them. Every
 * change they make goes through the service's write path, with its checks, versions and audit.
 */
export class TimedChanges {
  constructor(private readonly host: TimedChangesHost) {}

  /**
   * Stores a change to apply at `at` (validated now, and again then), at `opts.scope`; with
   * `opts.forMs` it is temporary once applied. Audited as `schedule`.
   */
  async schedule(
    input: string,
    value: string,
    at: Date,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: Pick<WriteOptions, 'scope' | 'forMs' | 'approval'> = {},
  ): Promise<ScheduledChange> {
    let key = input.slice(0, 64);
    let scope: Scope = GLOBAL;
    try {
      const checkedReason = checkReason(reason);
      const def = resolveKey(this.host.registry, input);
      key = def.key;
      scope = this.host.scopeOf(def, opts.scope);
      refuseTimedSensitive(def);
      const parsed = parseTyped(def, scope, value);
      if (at.getTime() <= Date.now())
        throw new UserError(
          'INVALID_VALUE',
          `${at.toISOString()} has passed: a scheduled change needs a time to come.`,
          { key },
        );
      const needed = opts.approval ? 0 : this.host.approvalsNeeded(def);
      if (needed > 0)
        await this.host.requestSchedule(
          def,
          scope,
          parsed.value,
          present(def, parsed.value),
          at,
          opts.forMs,
          needed,
          actor,
          checkedReason,
          ctx,
          parsed.warnings,
        );
      if (!this.host.attached())
        throw new DatabaseUnavailableError('not connected yet (started from the last-known-good copy)');
      const doc: ScheduleDoc = {
        _id: ScheduleStore.newId(),
        key: def.key,
        scope,
        kind: 'apply',
        runAt: at,
        value: parsed.value,
        baseVersion: this.host.heldVersion(slotId(def.key, scope)),
        ...(opts.forMs !== undefined ? { thenForMs: opts.forMs } : {}),
        status: 'pending',
        createdBy: actor,
        ...(checkedReason ? { reason: checkedReason } : {}),
        createdAt: new Date(),
      };
      await this.host.health.guard('schedule', () => this.host.schedules.add(doc));
      await this.host.audit.record({
        key: def.key,
        ...(scope !== GLOBAL ? { scope } : {}),
        action: 'schedule',
        status: 'success',
        newValue: parsed.value,
        actor,
        reason: `scheduled for ${at.toISOString()} (id ${doc._id})${checkedReason ? `: ${checkedReason}` : ''}`,
        ...ctx,
      });
      return {
        id: doc._id,
        key: def.key,
        scope,
        runAt: at,
        display: present(def, parsed.value),
        ...(opts.forMs !== undefined ? { thenForMs: opts.forMs } : {}),
        warnings: parsed.warnings,
      };
    } catch (err) {
      // Not a refusal: it became a change request (audited there).
      if (err instanceof ApprovalRequired) throw err;
      return this.host.refused(err, 'schedule', {
        key,
        ...(scope !== GLOBAL ? { scope } : {}),
        actor,
        ...ctx,
      });
    }
  }

  /**
   * Carries out a due change (ScheduleRunner calls this, holding its lease): an expiry restores
   * the replaced value, a scheduled change applies its value after checking it against today's
   * rules; either only if the key has not moved at that scope since it was planned.
   */
  async apply(doc: ScheduleDoc): Promise<WriteSuccess> {
    const actor: Actor = {
      id: `schedule:${doc._id}`,
      tag: `${doc.kind === 'expire' ? 'expiry' : 'scheduled change'} ${doc._id} (${doc.createdBy.tag})`,
    };
    const reason =
      doc.kind === 'expire'
        ? `end of the temporary value (v${doc.baseVersion})`
        : `scheduled change ${doc._id}${doc.reason ? `: ${doc.reason}` : ''}`;
    const opts: WriteOptions = { scope: doc.scope, expectedVersion: doc.baseVersion, timed: true };
    if (doc.kind === 'expire' && doc.unset)
      return this.host.write('reset', doc.key, actor, reason, {}, opts, (def) => () => defaultOf(def));
    const result = await this.host.write(
      doc.kind === 'expire' ? 'expire' : 'scheduled',
      doc.key,
      actor,
      reason,
      {},
      opts,
      (def) => {
        const checked = storedValue(def, doc.scope, doc.value);
        return () => ({ value: checked.value, warnings: checked.warnings });
      },
    );
    if (doc.kind === 'apply' && doc.thenForMs !== undefined)
      return this.expireLater(result, doc.thenForMs, doc.createdBy, doc.reason, `${doc._id}-expiry`);
    return result;
  }

  /** Cancels a pending change; audited. Throws when it is not pending any more. */
  async cancel(id: string, actor: Actor, ctx: RequestContext = {}): Promise<ScheduleDoc> {
    const doc = await this.host.health.guard('read', () => this.host.schedules.get(id), READ_UNAVAILABLE);
    const cancelled =
      doc &&
      (await this.host.health.guard('cancel', () =>
        this.host.schedules.cancel(id, `cancelled by ${actor.tag}`),
      ));
    if (!doc || !cancelled) {
      const why = doc?.status === 'running' ? 'is being applied right now' : 'is no longer pending';
      throw new UserError(
        'VERSION_NOT_FOUND',
        `That change${doc ? ` (${doc.key}, ${doc.status})` : ''} ${why}; nothing was cancelled.`,
        { key: doc?.key ?? '*' },
      );
    }
    await this.host.audit.record({
      key: doc.key,
      ...(doc.scope !== GLOBAL ? { scope: doc.scope } : {}),
      action: 'cancel',
      status: 'success',
      actor,
      reason: `cancelled ${doc.kind === 'expire' ? 'the expiry of a temporary value' : 'a scheduled change'} due ${doc.runAt.toISOString()} (id ${id})`,
      ...ctx,
    });
    return doc;
  }

  /**
   * For a scheduled change with `for:` that a runner applied and died before recording: plans its
   * expiry from the stored versions, unless it exists already (its id derives from the change).
   */
  async ensureExpiryOf(doc: ScheduleDoc): Promise<void> {
    if (doc.kind !== 'apply' || doc.thenForMs === undefined) return;
    const slot = slotId(doc.key, doc.scope);
    const applied = await this.host.storedVersion(slot, doc.baseVersion + 1);
    if (!applied) return;
    const before = doc.baseVersion > 0 ? await this.host.storedVersion(slot, doc.baseVersion) : undefined;
    const unset = doc.scope !== GLOBAL && (!before || before.action === 'unset');
    await this.host.schedules.addOnce({
      _id: `${doc._id}-expiry`,
      key: doc.key,
      scope: doc.scope,
      kind: 'expire',
      runAt: new Date(applied.createdAt.getTime() + doc.thenForMs),
      ...(unset ? { unset: true } : { value: before?.value }),
      baseVersion: applied.version,
      status: 'pending',
      createdBy: doc.createdBy,
      ...(doc.reason ? { reason: doc.reason } : {}),
      createdAt: new Date(),
    });
  }

  /** Pending changes (temporary values ending, scheduled changes), soonest first. */
  async pending(key?: string): Promise<ScheduleDoc[]> {
    return this.host.health.guard('read', () => this.host.schedules.pending(key), READ_UNAVAILABLE);
  }

  /**
   * Plans the expiry of a value just committed and says so in the result (or why not). A value
   * that replaces another temporary one restores what that one would have restored, and takes
   * its place: otherwise the first expiry, finding the key moved, would leave the second value
   * for good. `id` makes the plan idempotent (a scheduled change planning its own expiry).
   */
  async expireLater(
    result: WriteSuccess,
    forMs: number,
    actor: Actor,
    reason?: string,
    id: string = ScheduleStore.newId(),
  ): Promise<WriteSuccess> {
    const def = resolveKey(this.host.registry, result.key);
    const at = new Date(Date.now() + forMs);
    let restore: { unset: true } | { value: unknown } =
      result.scope !== GLOBAL && result.oldValue === undefined ? { unset: true } : { value: result.oldValue };
    try {
      const earlier = (await this.host.schedules.pending(result.key)).filter(
        (d) => d.kind === 'expire' && d.scope === result.scope && d.status === 'pending',
      );
      for (const e of earlier) {
        if (
          !(await this.host.schedules.cancel(
            e._id,
            `replaced by the temporary value of v${result.version} (${id})`,
          ))
        )
          continue;
        restore = e.unset ? { unset: true } : { value: e.value };
      }
      await this.host.schedules.addOnce({
        _id: id,
        key: result.key,
        scope: result.scope,
        kind: 'expire',
        runAt: at,
        ...restore,
        baseVersion: result.version,
        status: 'pending',
        createdBy: actor,
        ...(reason ? { reason } : {}),
        createdAt: new Date(),
      });
    } catch (err) {
      logger.error(`Could not plan the expiry of ${result.key} v${result.version}`, errorDetail(err));
      return {
        ...result,
        warnings: [
          ...result.warnings,
          'The value was stored, but its expiry could not be planned: it stays until changed.',
        ],
      };
    }
    const then =
      'unset' in restore
        ? `inherits (${present(def, this.host.inherited(def.key, result.scope))})`
        : present(def, restore.value);
    return { ...result, until: { at, then } };
  }
}

/** Temporary and scheduled values are stored in clear in config_schedules: never for secrets. */
export function refuseTimedSensitive(def: RegisteredKey): void {
  if (def.sensitive)
    throw new UserError(
      'INVALID_VALUE',
      `${def.key} is sensitive: it cannot be set temporarily or scheduled.`,
      { key: def.key },
    );
}
