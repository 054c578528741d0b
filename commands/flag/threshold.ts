import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change, oneOf } from '../../src/discord/flag/change.js';
import { onFlag, reasonOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import { editThreshold, parseWindow } from '../../src/discord/flag/threshold.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'threshold',
  'Switch off automatically past this many errors in a window (or clear)',
)
  .addIntegerOption((o) =>
    o
      .setName('errors')
      .setDescription('Errors reported within the window that switch it off')
      .setMinValue(1)
      .setMaxValue(1_000_000),
  )
  .addStringOption((o) =>
    o.setName('window').setDescription('The window: 30s, 5m, 1h (1s to 24h)').setMaxLength(20),
  )
  .addBooleanOption((o) => o.setName('clear').setDescription('Never switch it off automatically'))
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const errors = i.options.getInteger('errors') ?? undefined;
  const window = i.options.getString('window') ?? undefined;
  const clear = i.options.getBoolean('clear') === true;
  await change(i, ctx, 'Automatic kill of', (f) => {
    oneOf(
      { 'errors and window': errors !== undefined || window !== undefined, 'clear:true': clear },
      'the flag is switched off when that many errors are reported within the window (errors:10 window:5m).',
    );
    if (clear) return editThreshold(f, null);
    return editThreshold(f, { errors, windowMs: window === undefined ? undefined : parseWindow(window) });
  });
}
