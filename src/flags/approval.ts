import { UserError } from '../base/errors.js';
import type { Actor, VersionAction } from '../storage/config-models.js';
import type { ChangeRequest } from '../approvals/requests.js';
import { GLOBAL } from '../config/scopes.js';
import type { RequestContext } from '../config/types.js';
import { FLAG_IMPACTS, type FlagDefinition } from '@config-bot/client/flags';
import { flagChanges, stateText } from './diff.js';
import { slotOfFlag, type FlagConfig, type StoredFlag } from './types.js';

type Impact = FlagDefinition['impact'];

/** Approvals a flag change needs: the most that its impact before or after asks for. */
export function approvalsNeeded(
  approvals: FlagConfig['approvals'],
  before: FlagDefinition | undefined,
  after: FlagDefinition,
): number {
  const of = (level: Impact | undefined) => (level ? (approvals[level] ?? 0) : 0);
  return Math.max(of(before?.impact), of(after.impact));
}

/** A flag change waiting for approvals: what is proposed, against the version held now. */
export interface FlagProposal {
  action: VersionAction;
  name: string;
  held: StoredFlag | undefined;
  planned: FlagDefinition;
  needed: number;
  actor: Actor;
  reason: string | undefined;
  ctx: RequestContext;
  restoredFrom: number | undefined;
}

/**
 * Stores a flag change that needs approvals as a change request (its creation is audited there).
 * Once approved, the request reaches the flag store again through its slot owner.
 */
export function requestFlagChange(
  config: Pick<FlagConfig, 'requests' | 'approvalTtlMs'>,
  p: FlagProposal,
): Promise<ChangeRequest> {
  const { name, held, planned } = p;
  const changes = flagChanges(held?.flag, planned);
  if (held && !changes.length)
    throw new UserError(
      'UNCHANGED',
      `${name} is already like that (version ${held.version}). Nothing was changed.`,
      {
        key: slotOfFlag(name),
      },
    );
  const level = [held?.flag.impact ?? 'none', planned.impact].sort(
    (a, b) => FLAG_IMPACTS.indexOf(b) - FLAG_IMPACTS.indexOf(a),
  )[0] as Impact;
  return config.requests.create({
    kind: p.action === 'rollback' ? 'rollback' : 'set',
    requester: p.actor,
    ...(p.reason ? { reason: p.reason } : {}),
    level,
    required: p.needed,
    changes: [
      {
        key: slotOfFlag(name),
        scope: GLOBAL,
        action: p.action,
        value: planned,
        ...(p.restoredFrom !== undefined ? { restoredFrom: p.restoredFrom } : {}),
        baseVersion: held?.version ?? 0,
        before: held ? `v${held.version}: ${stateText(held.flag)}` : '(no flag)',
        after: changes.join('; '),
      },
    ],
    preview: [
      held
        ? `Rollback plan: /flag rollback name:${name} version:${held.version}`
        : `Rollback plan: /flag archive name:${name}`,
    ],
    ttlMs: config.approvalTtlMs,
    ctx: p.ctx,
  });
}
