import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { flagAttempt, nameOf, onFlag } from '../../src/discord/flag/options.js';
import { historyEmbed } from '../../src/discord/flag/render.js';
import { editReply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'history',
  'Versions, newest first, with what each changed',
).addIntegerOption((o) =>
  o.setName('limit').setDescription('How many versions (default 10)').setMinValue(1).setMaxValue(25),
);

export const requires = {
  access: 'read',
  audit: 'history',
  defer: true,
  attempt: flagAttempt,
} as const satisfies Requirement;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const held = ctx.flags.require(nameOf(i));
  const rows = await ctx.flags.history(held.flag.name, { limit: i.options.getInteger('limit') ?? 10 });
  await editReply(i, { embeds: [historyEmbed(held.flag.name, rows)] });
}
