import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  SlashCommandSubcommandBuilder,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { GLOBAL, type Scope } from '../../src/config/scopes.js';
import type { ConfigVersionDoc } from '../../src/storage/config-models.js';
import { historyChart } from '../../src/discord/config/chart.js';
import { autocomplete } from '../../src/discord/config/complete.js';
import { shortChange } from '../../src/discord/config/diff.js';
import { scopeOption, settingOption } from '../../src/discord/config/options.js';
import { historyEmbed } from '../../src/discord/config/render.js';
import { scopeCode, scopeFromCode } from '../../src/discord/config/scope-code.js';
import { customIdPart } from '../../src/discord/preconditions.js';
import { editReply, fitted, REPLY_DEFAULTS } from '../../src/discord/reply.js';
import type { Buttons, CommandContext, Invocation, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('history')
  .setDescription('Show the versions of a setting, newest first')
  .addStringOption(settingOption)
  .addIntegerOption((o) =>
    o.setName('limit').setDescription('How many versions (default 10)').setMinValue(1).setMaxValue(25),
  )
  .addStringOption(scopeOption);

export const requires = {
  access: 'read',
  audit: 'history',
  defer: true,
  selfService: true,
} as const satisfies Requirement;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const entry = ctx.config.describe(i.options.getString('setting', true), {
    scope: i.options.getString('scope') ?? ctx.access.ownScope(i),
  });
  const page = await historyPage(ctx, entry.key, entry.scope, {}, i.options.getInteger('limit') ?? 10);
  // The chart goes with the first page only: the Older/Newer buttons edit the message, which
  // keeps its attachment.
  const chart = await historyChart(ctx, ctx.config.definition(entry.key), entry.scope);
  if (!chart) return editReply(i, page);
  page.embeds[0]?.setImage(`attachment://${chart.name}`);
  await i.editReply({
    ...fitted(page),
    files: [{ attachment: chart.data, name: chart.name }],
    allowedMentions: REPLY_DEFAULTS.allowedMentions,
  });
}

export const buttons = {
  /**
   * Older and Newer: `config:h:<KEY>:<scope code>:<dir><version>:<limit>`, where `<` pages below
   * a version and `>` above it (ids made before scopes existed have no scope part: global). Past
   * Discord's 100 characters (a 64-character key at a server scope) the page has no buttons.
   */
  h: {
    requires: {
      access: 'read',
      audit: 'history',
      defer: true,
      selfService: true,
      attempt: (i) => ({ key: customIdPart(i, 2) || '*', scope: historyScope(i) }),
    },
    async run(i, ctx, [key = '', ...rest]) {
      const [code, at = '', limitText = ''] = rest.length === 3 ? rest : ['g', ...rest];
      const def = ctx.config.definition(key);
      const m = /^([<>])(\d{1,16})$/.exec(at);
      const limit = Math.min(Math.max(Number(limitText) || 10, 1), 25);
      const around = m?.[1] === '>' ? { after: Number(m[2]) } : { before: Number(m?.[2] ?? 0) || undefined };
      await editReply(i, await historyPage(ctx, def.key, scopeFromCode(code ?? 'g'), around, limit));
    },
  },
} as const satisfies Buttons;

/** The scope of a history button (`config:h:<KEY>:<scope code>:...`; older ids have none: global). */
function historyScope(i: Invocation): string {
  return i.isButton() && i.customId.split(':').length === 6 ? scopeFromCode(customIdPart(i, 3)) : 'global';
}

async function historyPage(
  ctx: CommandContext,
  key: string,
  scope: Scope,
  around: { before?: number; after?: number },
  limit: number,
) {
  let rows = await ctx.config.history(key, { limit, scope, ...around });
  // Past the newest (it moved, or the page was the first): show the newest page instead.
  if (rows.length === 0 && around.after !== undefined) rows = await ctx.config.history(key, { limit, scope });
  const newest = Math.max(ctx.config.cachedVersion(key, scope), rows[0]?.version ?? 0);
  const top = rows[0]?.version ?? 0;
  const bottom = rows.at(-1)?.version ?? 0;
  const def = ctx.config.definition(key);
  // Each row says what it changed, so the version below the page is read too.
  const below =
    bottom > 1 ? (await ctx.config.history(key, { limit: 1, scope, before: bottom }))[0] : undefined;
  const previous = new Map(rows.map((r, n) => [r.version, rows[n + 1] ?? below]));
  const show = (_: unknown, row: ConfigVersionDoc) => shortChange(def, previous.get(row.version), row);
  const footer = rows.length ? `Versions ${top}-${bottom} of ${newest}, newest first` : undefined;
  const embed = historyEmbed(scope === GLOBAL ? key : `${key} · ${scope}`, rows, show, footer);
  if (rows.length === 0 || (bottom <= 1 && top >= newest)) return { embeds: [embed], components: [] };
  const id = (dir: '<' | '>', version: number) =>
    `config:h:${key}:${scopeCode(scope)}:${dir}${version}:${limit}`;
  if (id('<', top).length > 100) return { embeds: [embed], components: [] };
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(id('>', top))
      .setLabel('Newer')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(top >= newest),
    new ButtonBuilder()
      .setCustomId(id('<', bottom))
      .setLabel('Older')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(bottom <= 1),
  );
  return { embeds: [embed], components: [row] };
}
