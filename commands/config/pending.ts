import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  SlashCommandSubcommandBuilder,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { actorOf, contextOf } from '../../src/discord/access.js';
import { describePending } from '../../src/discord/config/pending.js';
import { COLOR, truncate } from '../../src/discord/render.js';
import { editReply } from '../../src/discord/reply.js';
import type { Buttons, CommandContext, Requirement } from '../../src/discord/types.js';

/** Cancel buttons fit in four rows of five (Discord allows five rows; one is kept spare). */
const MAX_SHOWN = 20;

export const data = new SlashCommandSubcommandBuilder()
  .setName('pending')
  .setDescription('Scheduled changes and temporary values waiting to end, with Cancel');

export const requires = { access: 'read', audit: 'view', defer: true } as const satisfies Requirement;

/** Every scheduled change and temporary value, newest first, each with Cancel. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  await editReply(i, await pendingPage(ctx));
}

export const buttons = {
  // Cancel of one of them, `config:unsched:<id>`: dropped (audited), and the list shown again.
  unsched: {
    requires: { access: 'write', audit: 'cancel', defer: true },
    async run(i, ctx, [id = '']) {
      await ctx.config.timed.cancel(id, actorOf(i), contextOf(i));
      await editReply(i, await pendingPage(ctx));
    },
  },
} as const satisfies Buttons;

async function pendingPage(ctx: CommandContext) {
  const docs = (await ctx.config.timed.pending()).sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime(),
  );
  const shown = docs.slice(0, MAX_SHOWN);
  const embed = new EmbedBuilder().setColor(COLOR.info).setTitle('Pending changes');
  if (!shown.length) embed.setDescription('Nothing is scheduled, and no temporary value is waiting to end.');
  embed.addFields(
    shown.map((d, n) => ({
      name: truncate(
        `${n + 1} · ${d.kind === 'expire' ? 'temporary value' : 'scheduled change'} · ${d._id}`,
        256,
      ),
      value: truncate(describePending(ctx.config, d), 1024),
    })),
  );
  if (docs.length > shown.length)
    embed.setFooter({ text: `${docs.length - shown.length} more not shown: the newest ${MAX_SHOWN} are.` });
  const rows: ActionRowBuilder<ButtonBuilder>[] = [];
  for (let n = 0; n < shown.length; n += 5) {
    rows.push(
      new ActionRowBuilder<ButtonBuilder>().addComponents(
        shown.slice(n, n + 5).map((d, k) =>
          new ButtonBuilder()
            .setCustomId(`config:unsched:${d._id}`)
            .setLabel(`Cancel ${n + k + 1}`)
            .setStyle(ButtonStyle.Danger),
        ),
      ),
    );
  }
  return { embeds: [embed], components: rows };
}
