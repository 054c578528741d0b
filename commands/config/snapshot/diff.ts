import { EmbedBuilder, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { diffSlots } from '../../../src/transfer/snapshot-plan.js';
import { Snapshots } from '../../../src/transfer/snapshots.js';
import { autocomplete } from '../../../src/discord/config/complete.js';
import { snapshotNameOption } from '../../../src/discord/config/options.js';
import { answer, diffText, snapshotAttempt, unknownNote } from '../../../src/discord/config/snapshot.js';
import { COLOR } from '../../../src/discord/render.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('diff')
  .setDescription('What differs between a snapshot and now, or another snapshot')
  .addStringOption(snapshotNameOption)
  .addStringOption((o) =>
    o
      .setName('against')
      .setDescription('now (default) or another snapshot')
      .setMaxLength(64)
      .setAutocomplete(true),
  );

export const requires = {
  access: 'read',
  audit: 'view',
  defer: true,
  attempt: snapshotAttempt,
} as const satisfies Requirement;

export { autocomplete };

/** /config snapshot diff: per key and scope, what changed between a snapshot and another, or now. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const snapshots = new Snapshots(ctx.config);
  const doc = await snapshots.get(i.options.getString('name', true));
  const againstText = i.options.getString('against')?.trim().toLowerCase() || 'now';
  const other = againstText === 'now' ? undefined : await snapshots.get(againstText);
  // Older on the left: a snapshot against now, or two snapshots in the order they were taken.
  const [older, newer, olderName, newerName] =
    other && other.createdAt < doc.createdAt
      ? [snapshots.open(other), snapshots.open(doc), other._id, doc._id]
      : [
          snapshots.open(doc),
          other ? snapshots.open(other) : await snapshots.now(),
          doc._id,
          other?._id ?? 'now',
        ];
  const { lines, same } = diffSlots(older, newer);
  const embed = new EmbedBuilder()
    .setColor(lines.length ? COLOR.warn : COLOR.ok)
    .setTitle(`${olderName} → ${newerName}`)
    .setFooter({
      text: `${lines.length} different · ${same} the same${unknownNote(older)}${unknownNote(newer)}`,
    });
  if (!lines.length) embed.setDescription('No differences: every value in every scope is the same.');
  await answer(
    i,
    { embeds: [embed] },
    lines.map((l) => diffText(l, olderName, newerName)),
    `diff-${olderName}-${newerName}.txt`,
  );
}
