import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { actorOf, contextOf } from '../../src/discord/access.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { answerWrite } from '../../src/discord/flag/answer.js';
import { askArchive } from '../../src/discord/flag/ask.js';
import { offInProduction } from '../../src/discord/flag/edits.js';
import { flagAttempt, nameOf, onFlag, reasonOf, reasonOption } from '../../src/discord/flag/options.js';
import { writeEmbed } from '../../src/discord/flag/render.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'archive',
  'Archive: off everywhere and out of /flag list (rollback restores it)',
).addStringOption(reasonOption);

export const requires = {
  access: 'write',
  audit: 'archive',
  defer: true,
  rateLimited: true,
  attempt: flagAttempt,
} as const satisfies Requirement;

export { autocomplete };

/** Archiving a flag that is on in production switches it off there: that asks first. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const held = ctx.flags.get(nameOf(i));
  if (held && !held.flag.archived && offInProduction(held.flag, undefined)) return askArchive(i, ctx, held);
  const result = await ctx.flags.archive(nameOf(i), actorOf(i), reasonOf(i), contextOf(i));
  await answerWrite(i, ctx, writeEmbed('Archived', result), result);
}
