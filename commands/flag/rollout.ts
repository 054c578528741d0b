import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change } from '../../src/discord/flag/change.js';
import { setRollout } from '../../src/discord/flag/edits.js';
import { onFlag, reasonOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'rollout',
  'Set the percentage of users it is on for',
)
  .addNumberOption((o) =>
    o
      .setName('percent')
      .setDescription('0 to 100, at most two decimals')
      .setRequired(true)
      .setMinValue(0)
      .setMaxValue(100),
  )
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const percent = i.options.getNumber('percent', true);
  await change(i, ctx, 'Rollout of', (f) => setRollout(f, percent));
}
