import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { requestAutocomplete } from '../../../src/discord/requests/complete.js';
import { idOption, requestAttempt } from '../../../src/discord/requests/options.js';
import { requestButtons, requestEmbed } from '../../../src/discord/requests/render.js';
import { editReply } from '../../../src/discord/reply.js';
import type { Buttons, CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('view')
  .setDescription('Everything about a change request: changes, approvals, log')
  .addStringOption(idOption);

export const requires = {
  access: 'read',
  audit: 'view',
  defer: true,
  attempt: requestAttempt('view'),
} as const satisfies Requirement;

export const autocomplete = requestAutocomplete;

/** Everything, with the buttons while it is pending. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const r = await ctx.config.requests.get(i.options.getString('id', true));
  await editReply(i, { embeds: [requestEmbed(r, true)], components: requestButtons(r) });
}

export const buttons = {
  // Details, on a change request's post (`config:rq-details:<id>`): the post is shared, so the
  // presser gets the answer privately.
  'rq-details': {
    requires: {
      access: 'read',
      audit: 'view',
      defer: true,
      privateAnswer: true,
      attempt: requestAttempt('view'),
    },
    async run(i, ctx, [id = '']) {
      const r = await ctx.config.requests.get(id);
      await editReply(i, { embeds: [requestEmbed(r, true)] });
    },
  },
} as const satisfies Buttons;
