import {
  EmbedBuilder,
  SlashCommandSubcommandBuilder,
  type ChatInputCommandInteraction,
  type GuildMember,
} from 'discord.js';
import type { FlagContext } from '@config-bot/client/flags';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { parseAttributes, rolesOf } from '../../src/discord/flag/evaluate.js';
import { envOption, flagAttempt, nameOf, normalName, onFlag } from '../../src/discord/flag/options.js';
import { COLOR, code, safe, truncate } from '../../src/discord/render.js';
import { reply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'evaluate',
  'Explain whether it is on for a member, and which rule decides',
)
  .addUserOption((o) =>
    o.setName('member').setDescription('The member (their roles count)').setRequired(true),
  )
  .addStringOption((o) =>
    o
      .setName('attributes')
      .setDescription('Context attributes: key=value,key=value (plan=pro,app.version=2.1.0)')
      .setMaxLength(1000),
  )
  .addStringOption(envOption("Evaluate in this environment (default: this bot's)"));

// Answered from memory, without deferring.
export const requires = {
  access: 'read',
  audit: 'flag-evaluate',
  attempt: flagAttempt,
} as const satisfies Requirement;

export { autocomplete };

/**
 * Explains the flag for a member of this server (their id, roles and this server), with optional
 * attributes and environment: the rule that decided, as the application's evaluation would.
 */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const held = ctx.flags.require(nameOf(i));
  const user = i.options.getUser('member', true);
  const member = i.options.getMember('member') as GuildMember | { roles: string[] } | null;
  const roles = rolesOf(member, i.guildId);
  const attributes = parseAttributes(i.options.getString('attributes'));
  const env = i.options.getString('env');
  const environment = env ? normalName(env) : ctx.config.environment;
  const context: FlagContext = {
    userId: user.id,
    ...(i.guildId ? { guildId: i.guildId } : {}),
    roles,
    environment,
    attributes,
  };
  const e = ctx.flags.set.explain(held.flag.name, context);
  const attrs = Object.entries(attributes).map(([k, v]) => `${k}=${safe(v, 100)}`);
  const embed = new EmbedBuilder()
    .setColor(e.enabled ? COLOR.ok : COLOR.muted)
    .setTitle(`${held.flag.name} is ${e.enabled ? 'on' : 'off'} for ${safe(user.username, 80)}`)
    .setDescription(safe(e.message, 1000))
    .addFields(
      { name: 'Rule', value: code(e.reason), inline: true },
      ...(e.variant ? [{ name: 'Variant', value: code(e.variant, 64), inline: true }] : []),
      { name: 'Environment', value: environment, inline: true },
      { name: 'Member', value: `<@${user.id}>${member ? '' : ' (not a member of this server: no roles)'}` },
      {
        name: 'Roles',
        value: truncate(roles.map((r) => `<@&${r}>`).join(', ') || 'none', 1024),
        inline: true,
      },
      { name: 'Server', value: i.guildId ? code(i.guildId) : 'none', inline: true },
      { name: 'Attributes', value: truncate(attrs.join(', ') || 'none', 1024) },
    )
    .setFooter({ text: 'Not counted in the evaluation statistics.' });
  await reply(i, { embeds: [embed] });
}
