import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { actorOf, contextOf } from '../../../src/discord/access.js';
import { closedEmbed } from '../../../src/discord/requests/answer.js';
import { requestAutocomplete } from '../../../src/discord/requests/complete.js';
import { idOption, requestAttempt } from '../../../src/discord/requests/options.js';
import { REASON_FIELD, rejectForm } from '../../../src/discord/requests/reject-form.js';
import { editReply } from '../../../src/discord/reply.js';
import type { Buttons, CommandContext, Modals, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('reject')
  .setDescription('Reject a change request, saying why')
  .addStringOption(idOption)
  .addStringOption((o) =>
    o.setName('reason').setDescription('Why (the requester sees it)').setRequired(true).setMaxLength(500),
  );

const rejecting = {
  access: 'write',
  audit: 'request-reject',
  defer: true,
  rateLimited: true,
  attempt: requestAttempt('request-reject'),
} as const satisfies Requirement;

export const requires = rejecting;

export const autocomplete = requestAutocomplete;

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const reason = i.options.getString('reason', true);
  const r = await ctx.config.requests.reject(
    i.options.getString('id', true),
    actorOf(i),
    reason,
    contextOf(i),
  );
  await editReply(i, { embeds: [closedEmbed(r, `Rejected ${r.id}`)] });
}

export const buttons = {
  // Reject, on a change request's post (`config:rq-reject:<id>`): opens a form for the reason (the
  // first response), and the attempt is counted when the form is submitted.
  'rq-reject': {
    requires: { access: 'write', audit: 'request-reject', attempt: requestAttempt('request-reject') },
    run: (i, ctx, [id = '']) => rejectForm(i, ctx, id),
  },
} as const satisfies Buttons;

export const modals = {
  // The reason of a rejection, from the Reject button: `config:rq-reason:<id>`.
  'rq-reason': {
    requires: rejecting,
    async run(i, ctx, [id = '']) {
      const reason = i.fields.getTextInputValue(REASON_FIELD);
      const r = await ctx.config.requests.reject(id, actorOf(i), reason, contextOf(i));
      await editReply(i, { embeds: [closedEmbed(r, `Rejected ${r.id}`)] });
    },
  },
} as const satisfies Modals;
