import { UserError } from '../base/errors.js';
import type { ChangeRequest } from './requests.js';
import type { ImpactLevel, RegisteredKey } from '../config/registry.js';

/** Approvals a change of `def` needs under APPROVALS_REQUIRED (0: it applies at once). */
export function approvalsNeeded(def: RegisteredKey, counts: Partial<Record<ImpactLevel, number>>): number {
  return counts[def.impact] ?? 0;
}

/**
 * Thrown by a write that needs approvals: nothing was applied, and `request` was created instead.
 * Callers turn it into "request CR-… created" (Discord, the API); it is not a refusal. The
 * message is plain text (no Discord markup): each surface renders its own from `request`.
 */
export class ApprovalRequired extends UserError {
  constructor(readonly request: ChangeRequest) {
    const c = request.changes[0];
    const what = c ? `${c.key}${c.scope === 'global' ? '' : ` at ${c.scope}`}` : 'This change';
    super(
      'APPROVAL_REQUIRED',
      `Not applied yet: ${what} is ${request.level} impact and needs ${request.required} approval${request.required === 1 ? '' : 's'} from another admin. Change request ${request.id} was created; it expires at ${request.expiresAt.toISOString()}.`,
      { key: c?.key ?? '*', request: request.id },
    );
    this.name = 'ApprovalRequired';
  }
}
