import { ComponentType, TextInputStyle, type ButtonInteraction } from 'discord.js';
import type { ChangeRequest } from '../../approvals/requests.js';
import { isUserError, UserError } from '../../base/errors.js';
import { within } from '../budget.js';
import { clip } from '../fit.js';
import { MODAL_LIMITS } from '../limits.js';
import type { CommandContext } from '../types.js';

/** The longest rejection reason ChangeRequests takes. */
const MAX_REJECT_REASON = 500;
/** The text input of the reason, by custom id. */
export const REASON_FIELD = 'reason';

/**
 * Reject: a form asking for the reason (a rejection needs one), as the first response. A request
 * no longer pending is refused at once rather than after the form, when the database tells in
 * time (see within); otherwise the form opens and its submission is checked.
 */
export async function rejectForm(i: ButtonInteraction, ctx: CommandContext, id: string): Promise<void> {
  const r = ctx.config.health.available ? await within(pendingCheck(ctx, id), undefined) : undefined;
  if (r && r.status !== 'pending')
    throw new UserError('CONFLICT', `${r.id} is ${r.status}; there is nothing to reject.`, {
      key: `request:${r.id}`,
      action: 'request-reject',
    });
  const requestId = r?.id ?? id;
  await i.showModal({
    custom_id: `config:rq-reason:${requestId}`,
    title: clip(`Reject ${requestId}`, MODAL_LIMITS.title),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: REASON_FIELD,
            label: 'Why (the requester sees it)',
            style: TextInputStyle.Paragraph,
            required: true,
            min_length: 1,
            max_length: Math.min(MAX_REJECT_REASON, MODAL_LIMITS.textLength),
          },
        ],
      },
    ],
  });
}

/** The request, to refuse one that is not pending; undefined when the database cannot say. */
function pendingCheck(ctx: CommandContext, id: string): Promise<ChangeRequest | undefined> {
  return ctx.config.requests.get(id).catch((err: unknown) => {
    if (isUserError(err)) throw err;
    return undefined;
  });
}
