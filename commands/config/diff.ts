import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/config/complete.js';
import { diffEmbed, versionsToCompare } from '../../src/discord/config/diff.js';
import { scopeOption, settingOption } from '../../src/discord/config/options.js';
import { editReply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('diff')
  .setDescription('What changed between two versions (default: the newest and the one before)')
  .addStringOption(settingOption)
  .addIntegerOption((o) =>
    o.setName('from').setDescription('The older version').setMinValue(1).setAutocomplete(true),
  )
  .addIntegerOption((o) =>
    o
      .setName('to')
      .setDescription('The newer version (default: the newest)')
      .setMinValue(1)
      .setAutocomplete(true),
  )
  .addStringOption(scopeOption);

export const requires = {
  access: 'read',
  audit: 'history',
  defer: true,
  selfService: true,
} as const satisfies Requirement;

export { autocomplete };

/** What changed between two versions of a key at a scope; by default the newest and the one before. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const def = ctx.config.definition(i.options.getString('setting', true));
  const scope = ctx.config.scopeOf(def, i.options.getString('scope') ?? ctx.access.ownScope(i));
  const [from, to] = await versionsToCompare(
    ctx,
    def,
    scope,
    i.options.getInteger('from'),
    i.options.getInteger('to'),
  );
  await editReply(i, { embeds: [diffEmbed(def, scope, from, to)] });
}
