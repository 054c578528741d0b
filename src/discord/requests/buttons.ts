import {
  ComponentType,
  TextInputStyle,
  type ButtonInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import type { ChangeRequest } from '../../config/requests.js';
import { isUserError, UserError } from '../../errors.js';
import { actorOf, contextOf } from '../access.js';
import { within } from '../budget.js';
import { clip, MODAL_LIMITS } from '../limits.js';
import { editReply } from '../reply.js';
import type { CommandContext } from '../types.js';
import { approvedEmbed, closedEmbed } from './answer.js';
import { requestEmbed } from './render.js';

// The buttons of a change request's post (`config:rq-approve|rq-reject|rq-details:<id>`) and the
// form of a rejection's reason (`config:rq-reason:<id>`). Whoever presses gets a private answer;
// the post itself is brought up to date by the RequestBoard. Access, the acknowledgement and
// the attempt limit are enforced before these run (`buttonRequires` in commands/config.ts).

/** The longest rejection reason ChangeRequests takes. */
const MAX_REJECT_REASON = 500;
const REASON_FIELD = 'reason';

/** Approve: counted, applied at the quorum, or refused with why (self-approval, keys moved...). */
export async function approveButton(i: ButtonInteraction, ctx: CommandContext, id: string): Promise<void> {
  const r = await ctx.config.requests.approve(id, actorOf(i), contextOf(i));
  await editReply(i, { embeds: [approvedEmbed(r)] });
}

/** Details: everything about the request, for the presser alone. */
export async function detailsButton(i: ButtonInteraction, ctx: CommandContext, id: string): Promise<void> {
  const r = await ctx.config.requests.get(id);
  await editReply(i, { embeds: [requestEmbed(r, true)] });
}

/**
 * Reject: a form asking for the reason (a rejection needs one), as the first response. A request
 * no longer pending is refused at once rather than after the form, when the database tells in
 * time (see within); otherwise the form opens and its submission is checked.
 */
export async function rejectButton(i: ButtonInteraction, ctx: CommandContext, id: string): Promise<void> {
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

/** The reason form submitted: rejects with it. */
export async function rejectReasonSubmitted(
  i: ModalSubmitInteraction,
  ctx: CommandContext,
  id: string,
): Promise<void> {
  const reason = i.fields.getTextInputValue(REASON_FIELD);
  const r = await ctx.config.requests.reject(id, actorOf(i), reason, contextOf(i));
  await editReply(i, { embeds: [closedEmbed(r, `Rejected ${r.id}`)] });
}
