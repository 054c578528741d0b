import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { MAX_VALUE_LENGTH } from '../../../src/config/validate.js';
import { actorOf, contextOf } from '../../../src/discord/access.js';
import { editedEmbed } from '../../../src/discord/requests/answer.js';
import { requestAutocomplete } from '../../../src/discord/requests/complete.js';
import { editedChange } from '../../../src/discord/requests/edit.js';
import { idOption, requestAttempt } from '../../../src/discord/requests/options.js';
import { editReply } from '../../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('edit')
  .setDescription('Propose another value in your change request (its approvals are cleared)')
  .addStringOption(idOption)
  .addStringOption((o) =>
    o.setName('value').setDescription('The new value').setRequired(true).setMaxLength(MAX_VALUE_LENGTH),
  );

export const requires = {
  access: 'write',
  audit: 'request-edit',
  defer: true,
  rateLimited: true,
  attempt: requestAttempt('request-edit'),
} as const satisfies Requirement;

export const autocomplete = requestAutocomplete;

/** The requester proposes another value; approvals are cleared. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const requests = ctx.config.requests;
  const before = await requests.get(i.options.getString('id', true));
  const { changes, warnings } = editedChange(ctx.config, before, i.options.getString('value', true));
  const after = await requests.edit(before.id, actorOf(i), changes, contextOf(i));
  await editReply(i, { embeds: [editedEmbed(after, before.approvals.length, warnings)] });
}
