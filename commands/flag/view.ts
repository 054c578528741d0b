import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { staleness } from '../../src/flags/lifecycle.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { flagAttempt, nameOf, onFlag } from '../../src/discord/flag/options.js';
import { viewEmbed } from '../../src/discord/flag/render.js';
import { editReply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'view',
  'Rules, version, last change and evaluations of the last 24 h',
);

export const requires = {
  access: 'read',
  audit: 'view',
  defer: true,
  attempt: flagAttempt,
} as const satisfies Requirement;

export { autocomplete };

/** One flag: its rules, version, last change, and its evaluations over the last 24 h. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
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
