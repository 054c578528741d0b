import { EmbedBuilder, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { Snapshots } from '../../../src/transfer/snapshots.js';
import { answer, snapshotAttempt } from '../../../src/discord/config/snapshot.js';
import { COLOR, safe, when, who } from '../../../src/discord/render.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('list')
  .setDescription('Snapshots, newest first');

export const requires = {
  access: 'read',
  audit: 'list',
  defer: true,
  attempt: snapshotAttempt,
} as const satisfies Requirement;

/** /config snapshot list: name, description, who, when, how many values; newest first. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const all = await new Snapshots(ctx.config).list();
  const embed = new EmbedBuilder().setColor(COLOR.info).setTitle('Snapshots');
  if (!all.length) embed.setDescription('No snapshots yet. Take one with `/config snapshot create`.');
  const lines = all.map((s) => ({
    text: `**${s._id}** · ${s.count} values · ${when(s.createdAt)} by ${who(s.createdBy)}${s.description ? `\n  ${safe(s.description, 200)}` : ''}`,
    plain: `${s._id}\t${s.count} values\t${s.createdAt.toISOString()}\t${s.createdBy.tag}${s.description ? `\t${s.description}` : ''}`,
  }));
  await answer(i, { embeds: [embed] }, lines, 'snapshots.txt');
}
