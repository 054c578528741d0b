import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { CATEGORIES, type Category } from '../../config/registry.js';
import { REPLY_DEFAULTS } from '../dispatcher.js';
import { COLOR, historyEmbed, listFields, paginate, statusEmbed, viewEmbed } from '../render.js';
import type { CommandContext } from '../types.js';

export async function view(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const setting = i.options.getString('setting', true);
  ctx.access.check(i, 'read', { key: setting, action: 'view' });
  await i.reply({ embeds: [viewEmbed(ctx.config.describe(setting))], ...REPLY_DEFAULTS });
}

export async function history(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const setting = i.options.getString('setting', true);
  ctx.access.check(i, 'read', { key: setting, action: 'history' });
  const entry = ctx.config.describe(setting);
  await i.deferReply({ flags: REPLY_DEFAULTS.flags });
  const rows = await ctx.config.history(entry.key, { limit: i.options.getInteger('limit') ?? 10 });
  const show = (v: unknown) => ctx.config.display(entry.key, v);
  await i.editReply({
    embeds: [historyEmbed(entry.key, rows, show)],
    allowedMentions: REPLY_DEFAULTS.allowedMentions,
  });
}

export async function list(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const category = parseCategory(i.options.getString('category'));
  ctx.access.check(i, 'read', { key: '*', action: 'list' });
  await i.reply({ ...listPage(ctx, category, 0), ...REPLY_DEFAULTS });
}

/** The Previous/Next buttons of /config list: custom id `config:list:<category|all>:<page>`. */
export async function listButton(
  i: ButtonInteraction,
  ctx: CommandContext,
  category: string,
  page: number,
): Promise<void> {
  ctx.access.check(i, 'read', { key: '*', action: 'list' });
  await i.update({
    ...listPage(ctx, parseCategory(category === 'all' ? null : category), page),
    allowedMentions: REPLY_DEFAULTS.allowedMentions,
  });
}

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
  const c = CATEGORIES.find((x) => x === input.toLowerCase());
  return c;
}

export async function status(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  ctx.access.check(i, 'read', { key: '*', action: 'view' });
  const rt = ctx.runtime;
  const stats = ctx.config.stats();
  const sync = rt?.sync?.status();
  const embed = statusEmbed({
    instanceId: rt?.instanceId ?? 'unknown',
    uptimeMs: rt ? Date.now() - rt.startedAt.getTime() : 0,
    database: rt?.database ?? 'unknown',
    databaseState: stats.database,
    sync: sync
      ? `${sync.mode}${sync.mode === 'polling' ? ` every ${sync.intervalMs} ms` : ''}${sync.failures ? ` · ${sync.failures} failures` : ''}`
      : 'off',
    cache: stats.cache,
    maintenance: ctx.config.get('MAINTENANCE_MODE') === true,
    pendingRestart: ctx.config.pendingRestart(),
    jobs: rt?.scheduler?.status() ?? [],
    schedulerHere: Boolean(rt?.scheduler),
  });
  await i.reply({ embeds: [embed], ...REPLY_DEFAULTS });
}
