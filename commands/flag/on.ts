import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change, envOf } from '../../src/discord/flag/change.js';
import { turnOn } from '../../src/discord/flag/edits.js';
import { envOption, flagAttempt, onFlag, reasonOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import { turnOnButton } from '../../src/discord/flag/turn-on.js';
import type { Buttons, CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'on',
  'Turn on: the kill switch, or one environment',
)
  .addStringOption(envOption('Only add this environment (default: the kill switch)'))
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const env = envOf(i);
  await change(i, ctx, env ? `Turned on in ${env}:` : 'Turned on', (f) =>
    turnOn(f, env, ctx.config.environment, ctx.config.environments),
  );
}

export const buttons = {
  // The button of an automatic-kill alert, `flag:turn-on:<name>:<version>`. Not deferred here: a
  // refusal must be a private reply, not an edit of the alert everyone sees; the handler
  // acknowledges it.
  'turn-on': {
    requires: { access: 'write', audit: 'flag-turn-on', rateLimited: true, attempt: flagAttempt },
    async run(i, ctx, [name = '', version = '']) {
      if (!/^\d+$/.test(version)) throw new Error(`Unknown button ${i.customId}`);
      await turnOnButton(i, ctx, name, Number(version));
    },
  },
} as const satisfies Buttons;
