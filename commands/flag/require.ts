import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change } from '../../src/discord/flag/change.js';
import { addOrRemove, normalName, onFlag, reasonOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import { editPrerequisites } from '../../src/discord/flag/prerequisites.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'require',
  'Require another flag to be on (or remove the requirement)',
)
  .addStringOption((o) =>
    o
      .setName('prerequisite')
      .setDescription('The flag that must be on')
      .setRequired(true)
      .setMaxLength(64)
      .setAutocomplete(true),
  )
  .addStringOption(addOrRemove)
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = normalName(i.options.getString('prerequisite', true));
  const add = (i.options.getString('action') ?? 'add') === 'add';
  await change(i, ctx, 'Prerequisites of', (f) => editPrerequisites(f, { add, name }, ctx.flags));
}
