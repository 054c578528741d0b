import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { editStickiness } from '../../src/discord/flag/bucketing.js';
import { change } from '../../src/discord/flag/change.js';
import { onFlag, reasonOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'stickiness',
  'What the rollout and variants hash, and the group hashed with it',
)
  .addStringOption((o) =>
    o
      .setName('by')
      .setDescription('userId, guildId or an attribute name (tenant_id)')
      .setMaxLength(64)
      .setAutocomplete(true),
  )
  .addStringOption((o) =>
    o
      .setName('group')
      .setDescription("Flags sharing a group bucket users alike; none: the flag's name")
      .setMaxLength(100),
  )
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const by = i.options.getString('by') ?? undefined;
  const group = i.options.getString('group') ?? undefined;
  await change(i, ctx, 'Stickiness of', (f) => editStickiness(f, by, group));
}
