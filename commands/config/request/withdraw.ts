import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { actorOf, contextOf } from '../../../src/discord/access.js';
import { closedEmbed } from '../../../src/discord/requests/answer.js';
import { requestAutocomplete } from '../../../src/discord/requests/complete.js';
import { idOption, requestAttempt } from '../../../src/discord/requests/options.js';
import { editReply } from '../../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('withdraw')
  .setDescription('Take back a change request you made')
  .addStringOption(idOption);

export const requires = {
  access: 'write',
  audit: 'request-withdraw',
  defer: true,
  rateLimited: true,
  attempt: requestAttempt('request-withdraw'),
} as const satisfies Requirement;

export const autocomplete = requestAutocomplete;

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const r = await ctx.config.requests.withdraw(i.options.getString('id', true), actorOf(i), contextOf(i));
  await editReply(i, { embeds: [closedEmbed(r, `Withdrew ${r.id}`)] });
}
