import type { ButtonInteraction, ChatInputCommandInteraction, EmbedBuilder } from 'discord.js';
import type { FlagWrite } from '../../flags/types.js';
import { appliedLine } from '../config/applied.js';
import { editReply } from '../reply.js';
import type { CommandContext } from '../types.js';

/**
 * Answers a committed flag write (counted against the user's change limit), then edits the answer
 * to say which live processes applied it, as /config does.
 */
export async function answerWrite(
  i: ChatInputCommandInteraction | ButtonInteraction,
  ctx: CommandContext,
  embed: EmbedBuilder,
  result: FlagWrite,
  extra: { components?: [] } = {},
): Promise<void> {
  await ctx.limits.recordChange(i.user.id);
  await editReply(i, { embeds: [embed], ...extra });
  const instances = ctx.runtime?.instances;
  if (!instances || result.seq === undefined) return;
  const line = await appliedLine(instances, result.seq, result.at);
  if (line) await editReply(i, { embeds: [embed.addFields({ name: 'Processes', value: line })] });
}
