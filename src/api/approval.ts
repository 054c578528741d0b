import { z } from 'zod';
import type { ChangeRequest } from '../approvals/requests.js';

/**
 * The answer to a write that became a change request (202): what was created, in fields a program
 * reads, and one plain sentence for a person. Nothing was applied.
 */
export const approvalSchema = z.object({
  status: z.literal('approval-required'),
  request: z.object({
    id: z.string().describe('CR-XXXXX: approve it in Discord (/config request approve) or the panel'),
    status: z.string().describe('pending until approved, rejected, withdrawn or expired'),
    level: z.string().describe('The impact level that asks for approvals'),
    approvalsNeeded: z.number().describe('Approvals from admins other than the requester'),
    approvals: z.number().describe('Approvals it has so far'),
    expiresAt: z.string().describe('ISO time after which it expires unapplied'),
    changes: z.array(
      z.object({
        key: z.string(),
        scope: z.string(),
        action: z.string(),
        before: z.string().describe('The value now, as shown to people (sensitive ones masked)'),
        after: z.string().describe('The proposed value, as shown to people'),
        runAt: z.string().optional().describe('A scheduled change: when it applies once approved'),
        forMs: z.number().optional().describe('A temporary value: how long it holds once applied'),
      }),
    ),
    warnings: z.array(z.string()).describe('What the checks warned about the proposed values'),
  }),
  message: z.string(),
});

export type ApprovalBody = z.infer<typeof approvalSchema>;

/** The 202 body of a change request. */
export function approvalBody(request: ChangeRequest): ApprovalBody {
  const first = request.changes[0];
  const what =
    request.changes.length > 1
      ? `These ${request.changes.length} changes are`
      : first
        ? `${first.key}${first.scope === 'global' ? '' : ` at ${first.scope}`} is`
        : 'This change is';
  const n = request.required;
  return {
    status: 'approval-required',
    request: {
      id: request.id,
      status: request.status,
      level: request.level,
      approvalsNeeded: n,
      approvals: request.approvals.length,
      expiresAt: request.expiresAt.toISOString(),
      changes: request.changes.map((c) => ({
        key: c.key,
        scope: c.scope,
        action: c.action,
        before: c.before,
        after: c.after,
        ...(c.runAt ? { runAt: c.runAt.toISOString() } : {}),
        ...(c.forMs !== undefined ? { forMs: c.forMs } : {}),
      })),
      warnings: request.changes.flatMap((c) => c.warnings ?? []),
    },
    message: `Not applied yet: ${what} ${request.level} impact and needs ${n} approval${n === 1 ? '' : 's'} from another admin. Change request ${request.id} was created; it expires at ${request.expiresAt.toISOString()}.`,
  };
}
