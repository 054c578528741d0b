import { UserError } from '../base/errors.js';
import { errorDetail } from '../base/logger.js';
import type { Actor, AuditAction, VersionAction } from '../storage/config-models.js';
import type { DatabaseHealth } from '../storage/health.js';
import { isDuplicateKeyError } from '../storage/insert-once.js';
import type { AuditLog, AuditRow } from './audit-log.js';
import type { LiveValues } from './live-values.js';
import type { ConfigReader } from './reader.js';
import type { RegisteredKey, Registry } from './registry.js';
import { GLOBAL, slotId, type Scope } from './scopes.js';
import type { Preview, RequestContext, WriteOptions } from './types.js';
import { checkReason, resolveKey } from './validate.js';

/** How long a refusal's answer waits for its audit row (written, or queued, either way). */
const AUDIT_REPLY_WAIT_MS = 250;

/** Waits for `p` (which never rejects), or `ms`, whichever comes first. */
async function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Refused attempts: each is audited as failed (or its row queued), counted by action and code
 * for the metrics, and turned into what the user should see (a UserError, the unreachable
 * database, a lost race); anything else is a bug and is rethrown as it was.
 */
export class Refusals {
  /** Refused attempts since start, by `action:CODE` (metrics). */
  readonly counts = new Map<string, number>();

  constructor(
    private readonly p: {
      registry: Registry;
      values: LiveValues;
      reader: ConfigReader;
      audit: AuditLog;
      health: DatabaseHealth;
    },
  ) {}

  /** Runs a preview; a refusal is recorded as a failed attempt of `action`, then thrown. */
  async audited(
    action: VersionAction,
    input: string,
    actor: Actor,
    rawReason: string | undefined,
    ctx: RequestContext,
    opts: Pick<WriteOptions, 'scope'>,
    run: (def: RegisteredKey, scope: Scope) => Preview | Promise<Preview>,
  ): Promise<Preview> {
    let key = input.slice(0, 64);
    let scope: Scope = GLOBAL;
    try {
      const def = resolveKey(this.p.registry, input);
      key = def.key;
      scope = this.p.reader.scopeOf(def, opts.scope);
      return await run(def, scope);
    } catch (err) {
      let reason: string | undefined;
      try {
        reason = checkReason(rawReason);
      } catch {
        // A reason too long to keep is itself what was refused; the row records the attempt without it.
        reason = undefined;
      }
      const recorded = action === 'reset' && scope !== GLOBAL ? 'unset' : action;
      return this.refused(err, recorded, {
        key,
        ...(scope !== GLOBAL ? { scope } : {}),
        actor,
        reason,
        ...ctx,
      });
    }
  }

  /**
   * Records a refused attempt (audited as failed) and throws what the user should see: the
   * UserError, the unreachable database, a lost race; anything else is a bug, rethrown as is.
   */
  async refused(
    err: unknown,
    action: AuditAction,
    row: Omit<AuditRow, 'action' | 'status' | 'error'>,
  ): Promise<never> {
    const error = this.userErrorOf(err, row.key, action);
    const reason = `${action}:${error?.code ?? 'INTERNAL'}`;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    // A commit may have completed others' interrupted writes before it gave up: bring them in.
    if (!error || error.code === 'CONFLICT')
      void this.p.values
        .catchUp(slotId(row.key, (row.scope ?? GLOBAL) as Scope))
        .catch((e: unknown) => this.p.health.noteFailure('catch-up', e));
    const audit: AuditRow = {
      ...row,
      action,
      status: 'failed',
      error: error ? error.message : `internal error: ${errorDetail(err).error as string}`,
    };
    // The row is written (or queued, if the database cannot take it) whatever happens; the answer
    // waits for it only a moment: a refusal needs no database, and a paused one must not delay it.
    const recording = this.p.audit.record(audit);
    if (error?.code !== 'UNAVAILABLE') await settledWithin(recording, AUDIT_REPLY_WAIT_MS);
    throw error ?? err;
  }

  /** The user-facing form of a failure, or undefined for a bug. */
  private userErrorOf(err: unknown, key: string, action: string): UserError | undefined {
    if (err instanceof UserError) return err;
    const unavailable = this.p.health.asUnavailable(action, err);
    if (unavailable) return unavailable;
    if (isDuplicateKeyError(err))
      return new UserError('CONFLICT', `${key} was changed concurrently by someone else; try again.`, {
        key,
      });
    return undefined;
  }
}
