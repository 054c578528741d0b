import { EmbedBuilder, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { GLOBAL } from '../../../src/config/scopes.js';
import { shown } from '../../../src/transfer/snapshot-plan.js';
import { Snapshots } from '../../../src/transfer/snapshots.js';
import { autocomplete } from '../../../src/discord/config/complete.js';
import { snapshotNameOption } from '../../../src/discord/config/options.js';
import { answer, snapshotAttempt, unknownNote } from '../../../src/discord/config/snapshot.js';
import { COLOR, code, safe } from '../../../src/discord/render.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('view')
  .setDescription('The values of a snapshot, by key and scope (sensitive ones masked)')
  .addStringOption(snapshotNameOption);

export const requires = {
  access: 'read',
  audit: 'view',
  defer: true,
  attempt: snapshotAttempt,
} as const satisfies Requirement;

export { autocomplete };

/** /config snapshot view: every recorded value by key and scope, sensitive ones masked. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const snapshots = new Snapshots(ctx.config);
  const doc = await snapshots.get(i.options.getString('name', true));
  const set = snapshots.open(doc);
  const lines = [...set.slots.values()].map((v) => {
    const where = v.scope === GLOBAL ? v.key : `${v.key} · ${v.scope}`;
    return {
      text: `${code(where, 100)} v${v.version}: ${code(shown(v))}`,
      plain: `${where} v${v.version}: ${shown(v)}`,
    };
  });
  const embed = new EmbedBuilder()
    .setColor(COLOR.info)
    .setTitle(`Snapshot ${doc._id}`)
    .setFooter({
      text: `Taken by ${doc.createdBy.tag} on ${doc.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${doc.values.length} values${unknownNote(set)}`,
    });
  if (doc.description) embed.addFields({ name: 'Description', value: safe(doc.description) });
  await answer(i, { embeds: [embed] }, lines, `snapshot-${doc._id}.txt`);
}
