import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { askRollback } from '../../src/discord/flag/ask.js';
import { flagAttempt, onFlag, reasonOption } from '../../src/discord/flag/options.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'rollback',
  'Restore an earlier version, as a new version (asks to confirm)',
)
  .addIntegerOption((o) =>
    o
      .setName('version')
      .setDescription('Version to restore')
      .setRequired(true)
      .setMinValue(1)
      .setAutocomplete(true),
  )
  .addStringOption(reasonOption);

export const requires = {
  access: 'write',
  audit: 'rollback',
  defer: true,
  rateLimited: true,
  attempt: flagAttempt,
} as const satisfies Requirement;

export { autocomplete };

/** Shows what the rollback would change, then Confirm writes it. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  await askRollback(i, ctx);
}
