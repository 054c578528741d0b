import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change } from '../../src/discord/flag/change.js';
import { editSchedule } from '../../src/discord/flag/edits.js';
import { onFlag, reasonOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import { scheduleBound } from '../../src/discord/flag/when.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'schedule',
  'On only from start and/or until end (none removes one)',
)
  .addStringOption((o) =>
    o
      .setName('start')
      .setDescription('2026-12-01 10:00 (SCHEDULE_TIMEZONE), 2026-12-01T09:00:00Z, or none')
      .setMaxLength(60),
  )
  .addStringOption((o) =>
    o
      .setName('end')
      .setDescription('2027-01-01 00:00 (SCHEDULE_TIMEZONE), 2027-01-01T00:00:00Z, or none')
      .setMaxLength(60),
  )
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

/** Start and end read as `/config set at:` reads a time (in SCHEDULE_TIMEZONE), or ISO 8601. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const zone = String(ctx.config.get('SCHEDULE_TIMEZONE'));
  const now = new Date();
  await change(i, ctx, 'Schedule of', (f) => {
    const start = scheduleBound('start', i.options.getString('start') ?? undefined, zone, now);
    const end = scheduleBound('end', i.options.getString('end') ?? undefined, zone, now);
    return editSchedule(f, start, end, now);
  });
}
