import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change, oneOf } from '../../src/discord/flag/change.js';
import { onFlag, reasonOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import { editVariants, parseWeights } from '../../src/discord/flag/variants.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'variants',
  'Set the variants and their weights (or clear them)',
)
  .addStringOption((o) =>
    o
      .setName('weights')
      .setDescription('Every variant as name:weight, thousandths adding up to 1000 (blue:500, green:500)')
      .setMaxLength(2000),
  )
  .addBooleanOption((o) => o.setName('clear').setDescription('Remove every variant'))
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const weights = i.options.getString('weights');
  const clear = i.options.getBoolean('clear') === true;
  await change(i, ctx, 'Variants of', (f) => {
    oneOf(
      { weights: weights !== null, 'clear:true': clear },
      'weights lists every variant as name:weight in thousandths adding up to 1000 (blue:500, green:500).',
    );
    return editVariants(f, weights === null ? null : parseWeights(weights));
  });
}
