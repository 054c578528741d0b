import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import type { ConfigVersionDoc } from '../../config/models.js';
import { describePending } from './pending.js';
import { GLOBAL, type Scope } from '../../config/scopes.js';
import { CATEGORIES, type Category } from '../../config/registry.js';
import { within } from '../budget.js';
import { editReply, fitted, reply, REPLY_DEFAULTS, update } from '../reply.js';
import { processLines } from './applied.js';
import { historyChart } from './chart.js';
import { shortChange } from './diff.js';
import { COLOR, historyEmbed, listFields, paginate, statusEmbed, viewEmbed, when } from '../render.js';
import type { CommandContext } from '../types.js';

export async function view(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const entry = ctx.config.describe(i.options.getString('setting', true), {
    scope: i.options.getString('scope') ?? ctx.access.ownScope(i),
    guildId: i.guildId,
  });
  await reply(i, { embeds: [viewEmbed(entry, await pendingLines(ctx, entry.key, ctx.access.ownScope(i)))] });
}

/**
 * The changes waiting for a key, for /config view, which answers from memory without deferring:
 * so this read gets FIRST_RESPONSE_READ_MS at most, and the view shows without it when the
 * database is slow or down.
 */
async function pendingLines(ctx: CommandContext, key: string, onlyScope: string | null): Promise<string[]> {
  const docs = ctx.config.health.available
    ? await within(
        ctx.config.timed.pending(key).catch(() => []),
        [],
      )
    : [];
  // A server managing its own value (self-service) sees its own plans, not other servers'.
  return docs.filter((d) => !onlyScope || d.scope === onlyScope).map((d) => describePending(ctx.config, d));
}

export async function history(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
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

/**
 * A scope in a custom id, kept short: `g` global, `e<name>` an environment, `s<id in base 36>` a
 * server (a 20-digit id takes 13 characters).
 */
export function scopeCode(scope: Scope): string {
  if (scope === GLOBAL) return 'g';
  if (scope.startsWith('env:')) return `e${scope.slice(4)}`;
  return `s${BigInt(scope.slice(6)).toString(36)}`;
}

export function scopeFromCode(code: string): Scope {
  if (!code || code === 'g') return GLOBAL;
  if (code.startsWith('e')) return `env:${code.slice(1)}`;
  if (/^s[0-9a-z]{1,15}$/.test(code)) {
    let n = 0n;
    for (const c of code.slice(1)) n = n * 36n + BigInt(parseInt(c, 36));
    return `guild:${n.toString()}`;
  }
  return GLOBAL;
}

/**
 * The Older/Newer buttons of /config history: custom id
 * `config:h:<KEY>:<scope code>:<dir><version>:<limit>`, where `<` pages below a version and `>`
 * above it (ids made before scopes existed have no scope part: global). Past Discord's 100
 * characters (a 64-character key at a server scope) the page is shown without buttons.
 */
export async function historyButton(
  i: ButtonInteraction,
  ctx: CommandContext,
  args: string[],
): Promise<void> {
  const [key = '', ...rest] = args;
  const [code, at = '', limitText = ''] = rest.length === 3 ? rest : ['g', ...rest];
  const def = ctx.config.definition(key);
  const m = /^([<>])(\d{1,16})$/.exec(at);
  const limit = Math.min(Math.max(Number(limitText) || 10, 1), 25);
  const around = m?.[1] === '>' ? { after: Number(m[2]) } : { before: Number(m?.[2] ?? 0) || undefined };
  const page = await historyPage(ctx, def.key, scopeFromCode(code ?? 'g'), around, limit);
  await editReply(i, page);
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

export async function list(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const category = parseCategory(i.options.getString('category'));
  await reply(i, listPage(ctx, category, 0));
}

/** The Previous/Next buttons of /config list: custom id `config:list:<category|all>:<page>`. */
export async function listButton(
  i: ButtonInteraction,
  ctx: CommandContext,
  category: string,
  page: number,
): Promise<void> {
  await update(i, listPage(ctx, parseCategory(category === 'all' ? null : category), page));
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
  const rt = ctx.runtime;
  const stats = ctx.config.stats();
  const sync = rt?.sync?.status();
  const processes = rt?.instances
    ? await rt.instances.list().then(
        (list) => processLines(list, rt.feed?.position ?? 0, rt.instanceId),
        () => ['(the list of processes cannot be read while the database is unavailable)'],
      )
    : undefined;
  const embed = statusEmbed({
    ...(processes ? { processes } : {}),
    instanceId: rt?.instanceId ?? 'unknown',
    uptimeMs: rt ? Date.now() - rt.startedAt.getTime() : 0,
    database: rt?.database ?? 'unknown',
    databaseState:
      stats.database === 'connected'
        ? 'connected'
        : `unavailable since ${when(stats.outageSince)}: reads are served from memory, writes are refused`,
    startedFrom:
      stats.startedFrom === 'database'
        ? undefined
        : `Started from the last-known-good copy written ${when(stats.copyWrittenAt)} (the database could not be reached)`,
    auditQueued: stats.auditQueued,
    sync: sync
      ? `${sync.mode}${sync.mode === 'polling' ? ` every ${sync.intervalMs} ms` : ''}${sync.failures ? ` · ${sync.failures} failures` : ''}`
      : 'off',
    cache: stats.cache,
    held: { ...ctx.config.heldCounts(), flags: ctx.flags.list({ archived: true }).length },
    maintenance: ctx.config.get('MAINTENANCE_MODE') === true,
    pendingRestart: ctx.config.pendingRestart(),
    envOverrides: stats.envOverrides.map((o) => `${o.key} (${o.variable})`),
    undecryptable: stats.undecryptable,
    jobs: rt?.scheduler?.status() ?? [],
    schedulerHere: Boolean(rt?.scheduler),
  });
  await editReply(i, { embeds: [embed] });
}
