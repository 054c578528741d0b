import {
  ComponentType,
  TextInputStyle,
  type ButtonInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { UserError } from '../../errors.js';
import { actorOf, contextOf } from '../access.js';
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
 * no longer pending is refused at once rather than after the form.
 */
export async function rejectButton(i: ButtonInteraction, ctx: CommandContext, id: string): Promise<void> {
  const r = await ctx.config.requests.get(id);
  if (r.status !== 'pending')
    throw new UserError('CONFLICT', `${r.id} is ${r.status}; there is nothing to reject.`, {
      key: `request:${r.id}`,
      action: 'request-reject',
    });
  await i.showModal({
    custom_id: `config:rq-reason:${r.id}`,
    title: clip(`Reject ${r.id}`, MODAL_LIMITS.title),
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
