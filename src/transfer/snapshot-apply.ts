import { sameValue } from '../config/present.js';
import { slotId, type Scope } from '../config/scopes.js';
import type { Actor } from '../storage/config-models.js';
import type { ConfigService } from '../config/service.js';
import type { RequestContext } from '../config/types.js';
import { isUserError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import type { PlannedChange } from './snapshot-plan.js';

/** What became of one planned change. */
export type ChangeResult = { key: string; scope: Scope } & (
  | { status: 'restored'; version: number }
  | { status: 'unchanged' }
  | { status: 'refused'; why: string }
  /** The key's impact needs approvals: a change request was made instead (see ApprovalRequired). */
  | { status: 'requested'; request: string }
);

/**
 * The confirmed step of a restore: writes each planned change as a new version with action
 * `restore`, one key at a time (there are no multi-document transactions), and says what became
 * of each. A slot that moved since the preview is refused (expectedVersion), unless it now holds
 * the planned value already (an earlier, interrupted run wrote it): that one is unchanged, so
 * running a restore again completes it without writing anything twice. Every write is audited by
 * the service. This is the one place a restore writes, so approvals can wrap it.
 */
export async function applyPlannedChanges(
  config: ConfigService,
  changes: readonly PlannedChange[],
  actor: Actor,
  reason: string | undefined,
  ctx: RequestContext = {},
): Promise<ChangeResult[]> {
  // A restore touching a key that needs approvals becomes one change request, as a whole.
  if (config.approvalsFor(changes.map((c) => c.key)).needed > 0) {
    const request = await config.requestBatch('restore', changes, actor, reason, ctx);
    return changes.map((c) => ({ key: c.key, scope: c.scope, status: 'requested', request: request.id }));
  }
  const results: ChangeResult[] = [];
  for (const c of changes) {
    const where = { key: c.key, scope: c.scope };
    try {
      const done = await config.put('restore', c.key, c.value, actor, reason, ctx, {
        scope: c.scope,
        expectedVersion: c.expectedVersion,
      });
      results.push({ ...where, status: 'restored', version: done.version });
    } catch (err) {
      if (!isUserError(err)) {
        // A bug in one key's write must not hide what happened to the others.
        logger.error(`Restore of ${slotId(c.key, c.scope)} failed`, errorDetail(err));
        results.push({ ...where, status: 'refused', why: 'internal error (logged)' });
        continue;
      }
      if (err.code === 'UNCHANGED') {
        results.push({ ...where, status: 'unchanged' });
        continue;
      }
      if (err.code === 'APPROVAL_REQUIRED') {
        results.push({ ...where, status: 'requested', request: String(err.context.request) });
        continue;
      }
      if (err.code === 'CONFLICT') {
        const fresh = await currentValues(config);
        const slot = slotId(c.key, c.scope);
        if (fresh.has(slot) && sameValue(config.definition(c.key), fresh.get(slot), c.value)) {
          results.push({ ...where, status: 'unchanged' });
          continue;
        }
      }
      results.push({ ...where, status: 'refused', why: err.message });
    }
  }
  return results;
}

/** The value of every slot that holds one, by slot id. */
async function currentValues(config: ConfigService): Promise<Map<string, unknown>> {
  try {
    const docs = await config.currentDocuments();
    return new Map(docs.filter((d) => !d.unset).map((d) => [d.key, d.value]));
  } catch (err) {
    // Unreadable now: each conflict is reported as the refusal it was.
    if (isUserError(err)) return new Map();
    throw err;
  }
}
