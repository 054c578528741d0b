import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  SlashCommandSubcommandBuilder,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { CATEGORIES, type Category } from '../../src/config/registry.js';
import { listFields, paginate } from '../../src/discord/config/render.js';
import { COLOR } from '../../src/discord/render.js';
import { reply, update } from '../../src/discord/reply.js';
import type { Buttons, CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('list')
  .setDescription('List settings, by category')
  .addStringOption((o) =>
    o
      .setName('category')
      .setDescription('Only this category')
      .addChoices(...CATEGORIES.map((c) => ({ name: c, value: c }))),
  );

export const requires = { access: 'read', audit: 'list' } as const satisfies Requirement;

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const category = parseCategory(i.options.getString('category'));
  await reply(i, listPage(ctx, category, 0));
}

export const buttons = {
  // Previous and Next: `config:list:<category|all>:<page>`.
  list: {
    requires: { access: 'read', audit: 'list' },
    run: async (i, ctx, [category = '', page = '']) =>
      update(i, listPage(ctx, parseCategory(category === 'all' ? null : category), Number(page) || 0)),
  },
} as const satisfies Buttons;

function listPage(ctx: CommandContext, category: Category | undefined, requested: number) {
  const pages = paginate(listFields(ctx.config.list(category)));
  const page = Math.min(Math.max(requested, 0), Math.max(pages.length - 1, 0));
  const embed = new EmbedBuilder()
    .setColor(COLOR.info)
    .setTitle(`Configuration${category ? ` · ${category}` : ''}`)
    .setFooter({ text: `Page ${page + 1}/${Math.max(pages.length, 1)} · ✎ = changed from default` });
  if (pages.length === 0) embed.setDescription('No settings in this category.');
  else embed.addFields(pages[page] ?? []);
  if (pages.length <= 1) return { embeds: [embed], components: [] };
  const id = (p: number) => `config:list:${category ?? 'all'}:${p}`;
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(id(page - 1))
      .setLabel('Previous')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(page === 0),
    new ButtonBuilder()
      .setCustomId(id(page + 1))
      .setLabel('Next')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(page >= pages.length - 1),
  );
  return { embeds: [embed], components: [row] };
}

function parseCategory(input: string | null): Category | undefined {
  if (!input) return undefined;
  return CATEGORIES.find((x) => x === input.toLowerCase());
}
