import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { actorOf, contextOf } from '../../../src/discord/access.js';
import { approvedEmbed } from '../../../src/discord/requests/answer.js';
import { requestAutocomplete } from '../../../src/discord/requests/complete.js';
import { idOption, requestAttempt } from '../../../src/discord/requests/options.js';
import { editReply } from '../../../src/discord/reply.js';
import type { Buttons, CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('approve')
  .setDescription("Approve another admin's change request (it applies at the quorum)")
  .addStringOption(idOption);

export const requires = {
  access: 'write',
  audit: 'request-approve',
  defer: true,
  rateLimited: true,
  attempt: requestAttempt('request-approve'),
} as const satisfies Requirement;

export const autocomplete = requestAutocomplete;

/** Counted, applied at the quorum, or refused with why (self-approval, keys moved...). */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const r = await ctx.config.requests.approve(i.options.getString('id', true), actorOf(i), contextOf(i));
  await editReply(i, { embeds: [approvedEmbed(r)] });
}

export const buttons = {
  // Approve, on a change request's post (`config:rq-approve:<id>`): the post is shared, so the
  // presser gets the answer privately.
  'rq-approve': {
    requires: {
      access: 'write',
      audit: 'request-approve',
      defer: true,
      privateAnswer: true,
      rateLimited: true,
      attempt: requestAttempt('request-approve'),
    },
    async run(i, ctx, [id = '']) {
      const r = await ctx.config.requests.approve(id, actorOf(i), contextOf(i));
      await editReply(i, { embeds: [approvedEmbed(r)] });
    },
  },
} as const satisfies Buttons;
