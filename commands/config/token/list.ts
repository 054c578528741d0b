import { EmbedBuilder, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import {
  audited,
  expiryText,
  scopeText,
  sensitiveText,
  tokenAttempt,
} from '../../../src/discord/config/tokens.js';
import { COLOR, LIMITS, safe, when, who } from '../../../src/discord/render.js';
import { editReply } from '../../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('list')
  .setDescription('Active API tokens: access, scope, last use');

// Tokens reach the whole configuration over HTTP: admins only, listing included.
export const requires = {
  access: 'write',
  audit: 'token-list',
  defer: true,
  attempt: tokenAttempt,
} as const satisfies Requirement;

/** The active tokens, newest first, without anything secret. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const tokens = await audited(i, ctx, 'token-list', null, () => ctx.tokens.list());
  const shown = tokens.slice(0, LIMITS.fields);
  const embed = new EmbedBuilder().setColor(COLOR.info).setTitle('API tokens');
  if (!shown.length) embed.setDescription('No active API tokens. Create one with `/config token create`.');
  embed.addFields(
    shown.map((t) => ({
      name: safe(t.name, LIMITS.fieldName),
      value: [
        `${t.access} · ${scopeText(t)} · ${sensitiveText(t)}`,
        `Created ${when(t.createdAt)} by ${who(t.createdBy)}`,
        `Last used ${when(t.lastUsedAt)}`,
        ...(t.expiresAt ? [`${expiryText(t)}`] : []),
      ].join('\n'),
    })),
  );
  if (tokens.length > shown.length)
    embed.setFooter({
      text: `${tokens.length - shown.length} more not shown: the newest ${shown.length} are.`,
    });
  await editReply(i, { embeds: [embed] });
}
