import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { within } from '../../src/discord/budget.js';
import { autocomplete } from '../../src/discord/config/complete.js';
import { scopeOption, settingOption } from '../../src/discord/config/options.js';
import { describePending } from '../../src/discord/config/pending.js';
import { viewEmbed } from '../../src/discord/config/render.js';
import { reply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('view')
  .setDescription('Show one setting: the value in force here and where it comes from')
  .addStringOption(settingOption)
  .addStringOption(scopeOption);

export const requires = { access: 'read', audit: 'view', selfService: true } as const satisfies Requirement;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const entry = ctx.config.describe(i.options.getString('setting', true), {
    scope: i.options.getString('scope') ?? ctx.access.ownScope(i),
    guildId: i.guildId,
  });
  await reply(i, { embeds: [viewEmbed(entry, await pendingLines(ctx, entry.key, ctx.access.ownScope(i)))] });
}

/**
 * The changes waiting for a key. /config view answers from memory without deferring, so this
 * read gets FIRST_RESPONSE_READ_MS at most, and the view shows without it when the database is
 * slow or down.
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
