import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { actorOf, contextOf } from '../../src/discord/access.js';
import { autocomplete } from '../../src/discord/config/complete.js';
import { confirmWrite } from '../../src/discord/config/confirm-write.js';
import { reasonOption, scopeOption, settingOption } from '../../src/discord/config/options.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('rollback')
  .setDescription('Restore the value of an earlier version (as a new version)')
  .addStringOption(settingOption)
  .addIntegerOption((o) =>
    o
      .setName('version')
      .setDescription('Version to restore')
      .setRequired(true)
      .setMinValue(1)
      .setAutocomplete(true),
  )
  .addStringOption(reasonOption)
  .addStringOption(scopeOption);

export const requires = {
  access: 'write',
  audit: 'rollback',
  defer: true,
  rateLimited: true,
  selfService: true,
} as const satisfies Requirement;

export { autocomplete };

/** Shows what the rollback would change (with its impact), then Confirm writes it. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const toVersion = i.options.getInteger('version', true);
  const reason = i.options.getString('reason') ?? undefined;
  const preview = await ctx.config.previewRollback(
    i.options.getString('setting', true),
    toVersion,
    actorOf(i),
    reason,
    contextOf(i),
    { scope: i.options.getString('scope') ?? ctx.access.ownScope(i) },
  );
  await confirmWrite(i, ctx, 'rollback', preview, (b, guard) =>
    ctx.config.rollback(preview.key, toVersion, actorOf(b), reason, contextOf(b), guard),
  );
}
