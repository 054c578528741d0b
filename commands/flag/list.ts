import {
  EmbedBuilder,
  SlashCommandSubcommandBuilder,
  type ChatInputCommandInteraction,
  type APIEmbedField,
} from 'discord.js';
import { FLAG_TYPES } from '@config-bot/client/flags';
import { staleness } from '../../src/flags/lifecycle.js';
import { flagAttempt } from '../../src/discord/flag/options.js';
import { summary } from '../../src/discord/flag/render.js';
import { COLOR, LIMITS, code, safe, truncate } from '../../src/discord/render.js';
import { editReply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('list')
  .setDescription('Flags (archived ones hidden), stale and never-evaluated ones marked, unknown names')
  .addStringOption((o) =>
    o
      .setName('type')
      .setDescription('Only this type')
      .addChoices(...FLAG_TYPES.map((t) => ({ name: t, value: t }))),
  )
  .addBooleanOption((o) => o.setName('stale').setDescription('Only stale flags (time to remove them)'));

// Evaluation counts are read from the database.
export const requires = {
  access: 'read',
  audit: 'list',
  defer: true,
  attempt: flagAttempt,
} as const satisfies Requirement;

/**
 * Every flag not archived (of one type, or only the stale ones), marked stale or never evaluated,
 * and the names applications evaluated in the last 24 h that are no flag (typos in code).
 */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
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
