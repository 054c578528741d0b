import { EmbedBuilder, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { MAX_DESCRIPTION_LENGTH, Snapshots } from '../../../src/transfer/snapshots.js';
import { actorOf, contextOf } from '../../../src/discord/access.js';
import { answer, snapshotAttempt } from '../../../src/discord/config/snapshot.js';
import { COLOR, safe } from '../../../src/discord/render.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('create')
  .setDescription('Record every value in every scope under a new name (never changed afterwards)')
  .addStringOption((o) =>
    o
      .setName('name')
      .setDescription('2-64 lower-case letters, digits and dashes, like before-migration')
      .setRequired(true)
      .setMaxLength(64),
  )
  .addStringOption((o) =>
    o.setName('description').setDescription('What it is for').setMaxLength(MAX_DESCRIPTION_LENGTH),
  );

export const requires = {
  access: 'write',
  audit: 'snapshot-create',
  defer: true,
  rateLimited: true,
  attempt: snapshotAttempt,
} as const satisfies Requirement;

/** /config snapshot create: records every value in every scope under a new name. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const summary = await new Snapshots(ctx.config).create(
    i.options.getString('name', true),
    i.options.getString('description'),
    actorOf(i),
    contextOf(i),
  );
  await ctx.limits.recordChange(i.user.id);
  const embed = new EmbedBuilder()
    .setColor(COLOR.ok)
    .setTitle(`Snapshot ${summary._id} created`)
    .setDescription(
      `${summary.count} values recorded, every scope included. Compare with \`/config snapshot diff\`, bring them back with \`/config snapshot restore\`.`,
    );
  if (summary.description) embed.addFields({ name: 'Description', value: safe(summary.description) });
  await answer(i, { embeds: [embed] });
}
