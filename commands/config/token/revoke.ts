import { EmbedBuilder, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { actorOf } from '../../../src/discord/access.js';
import {
  audited,
  described,
  summaryFields,
  tokenAttempt,
  tokenAutocomplete,
} from '../../../src/discord/config/tokens.js';
import { COLOR, safe } from '../../../src/discord/render.js';
import { editReply } from '../../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('revoke')
  .setDescription('Revoke an API token: it is refused from then on')
  .addStringOption((o) =>
    o.setName('name').setDescription('The token').setRequired(true).setMaxLength(32).setAutocomplete(true),
  );

export const requires = {
  access: 'write',
  audit: 'token-revoke',
  defer: true,
  rateLimited: true,
  attempt: tokenAttempt,
} as const satisfies Requirement;

export const autocomplete = tokenAutocomplete;

/** The API refuses the token from its next request on. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = i.options.getString('name', true);
  const record = await audited(
    i,
    ctx,
    'token-revoke',
    name,
    () => ctx.tokens.revoke(name, actorOf(i)),
    described,
  );
  await ctx.limits.recordChange(i.user.id);
  const embed = new EmbedBuilder()
    .setColor(COLOR.ok)
    .setTitle(`Token ${safe(record.name, 100)} revoked`)
    .setDescription('Requests with it are refused from now on. Its name is free for a new token.')
    .addFields(summaryFields(record));
  await editReply(i, { embeds: [embed] });
}
