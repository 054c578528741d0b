import { EmbedBuilder, type APIEmbedField, type ChatInputCommandInteraction } from 'discord.js';
import { staleness } from '../../flags/store/lifecycle.js';
import { COLOR, LIMITS, code, safe, truncate } from '../render.js';
import { editReply } from '../reply.js';
import type { CommandContext } from '../types.js';
import { nameOf } from './options.js';
import { historyEmbed, summary, viewEmbed } from './render.js';

// These read evaluation counts or history from the database, so they are deferred (`requires`).

/**
 * Every flag not archived (of one type, or only the stale ones), marked stale or never evaluated,
 * and the names applications evaluated in the last 24 h that are no flag (typos in code).
 */
export async function list(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const type = i.options.getString('type');
  const onlyStale = i.options.getBoolean('stale') === true;
  const [recent, seen] = await Promise.all([ctx.flags.usage.last24h(), ctx.flags.usage.lastEvaluated()]);
  const now = new Date();
  const rows = ctx.flags
    .list()
    .filter((s) => !type || s.flag.type === type)
    .map((s) => ({ s, stale: staleness(s, now, ctx.flagStaleDays), never: !seen.has(s.flag.name) }))
    .filter((r) => !onlyStale || r.stale.stale);
  const unknown = [...recent.keys()].filter((n) => !ctx.flags.get(n)).sort();
  const fields: APIEmbedField[] = rows.map(({ s, stale, never }) => ({
    name: `${s.flag.name}${stale.stale ? ' ⚠️ stale' : ''}${never ? ' · never evaluated' : ''}`,
    value: truncate(
      [
        `${s.flag.type} · ${summary(s.flag)} · v${s.version}`,
        safe(s.flag.description, 200),
        ...(stale.why ? [`Stale: ${stale.why}`] : []),
      ].join('\n'),
      LIMITS.fieldValue,
    ),
  }));
  const counts = [
    `${rows.length} flag${rows.length === 1 ? '' : 's'}`,
    `${rows.filter((r) => r.stale.stale).length} stale (release flags fully on or off for ${ctx.flagStaleDays} days)`,
    `${rows.filter((r) => r.never).length} never evaluated`,
  ].join(' · ');
  const description = [
    rows.length ? counts : onlyStale ? 'No stale flags.' : 'No flags. /flag create makes one.',
    ...(unknown.length
      ? [
          `⚠️ Evaluated in the last 24 h but no flag has the name (a typo in code?): ${truncate(unknown.map((n) => code(n, 64)).join(', '), 1500)}`,
        ]
      : []),
  ].join('\n');
  const embed = new EmbedBuilder()
    .setColor(unknown.length ? COLOR.warn : COLOR.info)
    .setTitle(`Feature flags${type ? ` · ${type}` : ''}${onlyStale ? ' · stale' : ''}`)
    .setDescription(description);
  if (fields.length) embed.addFields(fields);
  await editReply(i, { embeds: [embed] });
}

/** One flag: its rules, version, last change, and its evaluations over the last 24 h. */
export async function view(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const held = ctx.flags.require(nameOf(i));
  const name = held.flag.name;
  const [recent, seen] = await Promise.all([ctx.flags.usage.last24h(), ctx.flags.usage.lastEvaluated()]);
  const embed = viewEmbed(
    held,
    { counts: recent.get(name), lastEvaluated: seen.get(name) },
    staleness(held, new Date(), ctx.flagStaleDays),
  );
  await editReply(i, { embeds: [embed] });
}

export async function history(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const held = ctx.flags.require(nameOf(i));
  const rows = await ctx.flags.history(held.flag.name, { limit: i.options.getInteger('limit') ?? 10 });
  await editReply(i, { embeds: [historyEmbed(held.flag.name, rows)] });
}
