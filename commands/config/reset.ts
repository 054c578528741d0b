import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { actorOf, contextOf } from '../../src/discord/access.js';
import { autocomplete } from '../../src/discord/config/complete.js';
import { confirmWrite } from '../../src/discord/config/confirm-write.js';
import { reasonOption, scopeOption, settingOption } from '../../src/discord/config/options.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('reset')
  .setDescription('Set a setting back to its default, or remove an override (as a new version)')
  .addStringOption(settingOption)
  .addStringOption(reasonOption)
  .addStringOption(scopeOption);

export const requires = {
  access: 'write',
  audit: 'reset',
  defer: true,
  rateLimited: true,
  selfService: true,
} as const satisfies Requirement;

export { autocomplete };

/** Shows what the reset would change (with its impact), then Confirm writes it. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const reason = i.options.getString('reason') ?? undefined;
  const preview = await ctx.config.previewReset(
    i.options.getString('setting', true),
    actorOf(i),
    reason,
    contextOf(i),
    { scope: i.options.getString('scope') ?? ctx.access.ownScope(i) },
  );
  await confirmWrite(i, ctx, 'reset', preview, (b, guard) =>
    ctx.config.reset(preview.key, actorOf(b), reason, contextOf(b), guard),
  );
}
