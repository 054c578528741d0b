import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { conditionValues } from '@config-bot/client/flags';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change, oneOf } from '../../src/discord/flag/change.js';
import { onFlag, reasonOption, variantOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import { editOverride } from '../../src/discord/flag/variants.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'override',
  'Pin a variant to contexts with given values (Unleash: overrides), or unpin',
)
  .addStringOption(variantOption)
  .addStringOption((o) =>
    o.setName('attribute').setDescription('Context attribute (userId, plan, tenant)').setMaxLength(64),
  )
  .addStringOption((o) =>
    o
      .setName('values')
      .setDescription('Comma-separated values that get this variant (replaces that attribute’s)')
      .setMaxLength(2000),
  )
  .addBooleanOption((o) =>
    o.setName('clear').setDescription('Unpin: the attribute given, or every override of the variant'),
  )
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const variant = i.options.getString('variant', true).trim();
  const attribute = i.options.getString('attribute')?.trim() ?? null;
  const values = i.options.getString('values');
  const clear = i.options.getBoolean('clear') === true;
  await change(i, ctx, 'Overrides of', (f) => {
    oneOf(
      { 'attribute and values': values !== null, 'clear:true': clear },
      'an override is an attribute and the values that get the variant.',
    );
    if (clear) return editOverride(f, variant, { clear: true, attribute });
    return editOverride(f, variant, {
      attribute: attribute ?? '',
      values: conditionValues('in', values ?? ''),
    });
  });
}
