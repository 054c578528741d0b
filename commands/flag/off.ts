import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { askOff } from '../../src/discord/flag/ask.js';
import { change, envOf } from '../../src/discord/flag/change.js';
import { offInProduction, turnOff } from '../../src/discord/flag/edits.js';
import { envOption, nameOf, onFlag, reasonOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'off',
  'Turn off: the kill switch, or one environment (production asks to confirm)',
)
  .addStringOption(envOption('Only remove this environment (default: the kill switch, everywhere)'))
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

/** Off in production asks for confirmation first; anything else is done at once. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const env = envOf(i);
  const held = ctx.flags.get(nameOf(i));
  if (held && !held.flag.archived && offInProduction(held.flag, env)) return askOff(i, ctx, held, env);
  await change(i, ctx, env ? `Turned off in ${env}:` : 'Turned off', (f) => turnOff(f, env));
}
