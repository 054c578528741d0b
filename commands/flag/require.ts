import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change } from '../../src/discord/flag/change.js';
import {
  addOrRemove,
  flagAttempt,
  normalName,
  onFlag,
  reasonOption,
} from '../../src/discord/flag/options.js';
import { editPrerequisites } from '../../src/discord/flag/prerequisites.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

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

export const requires = {
  access: 'write',
  audit: 'set',
  defer: true,
  rateLimited: true,
  attempt: flagAttempt,
} as const satisfies Requirement;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = normalName(i.options.getString('prerequisite', true));
  const add = (i.options.getString('action') ?? 'add') === 'add';
  await change(i, ctx, 'Prerequisites of', (f) => editPrerequisites(f, { add, name }, ctx.flags));
}
