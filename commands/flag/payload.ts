import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { PAYLOAD_TYPES, type VariantPayload } from '@config-bot/client/flags';
import { UserError } from '../../src/base/errors.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change, oneOf } from '../../src/discord/flag/change.js';
import { onFlag, reasonOption, variantOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import { editPayload } from '../../src/discord/flag/variants.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'payload',
  'Set or remove the payload of a variant',
)
  .addStringOption(variantOption)
  .addStringOption((o) =>
    o
      .setName('type')
      .setDescription('What the value is')
      .addChoices(...PAYLOAD_TYPES.map((t) => ({ name: t, value: t }))),
  )
  .addStringOption((o) =>
    o.setName('value').setDescription('The payload (text, JSON, CSV or a number)').setMaxLength(6000),
  )
  .addBooleanOption((o) => o.setName('remove').setDescription('Remove the payload'))
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const variant = i.options.getString('variant', true).trim();
  const type = i.options.getString('type');
  const value = i.options.getString('value');
  const remove = i.options.getBoolean('remove') === true;
  await change(i, ctx, 'Payload of', (f) => {
    oneOf(
      { 'type and value': type !== null || value !== null, 'remove:true': remove },
      `a payload is a type (${PAYLOAD_TYPES.join(', ')}) and its value.`,
    );
    if (remove) return editPayload(f, variant, null);
    if (type === null || value === null)
      throw new UserError(
        'INVALID_VALUE',
        `A payload needs both type (${PAYLOAD_TYPES.join(', ')}) and value.`,
      );
    return editPayload(f, variant, { type, value } as VariantPayload);
  });
}
