import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change } from '../../src/discord/flag/change.js';
import { editTarget, idOf, type Side, type TargetKind } from '../../src/discord/flag/edits.js';
import { addOrRemove, onFlag, reasonOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'target',
  'Include or exclude a user, role or server (or remove one)',
)
  .addStringOption((o) =>
    o
      .setName('list')
      .setDescription('include: always on for it; exclude: always off (wins)')
      .setRequired(true)
      .addChoices({ name: 'include', value: 'include' }, { name: 'exclude', value: 'exclude' }),
  )
  .addStringOption((o) =>
    o
      .setName('kind')
      .setDescription('What the id is')
      .setRequired(true)
      .addChoices(
        { name: 'user', value: 'user' },
        { name: 'role', value: 'role' },
        { name: 'server', value: 'guild' },
      ),
  )
  .addStringOption((o) =>
    o
      .setName('id')
      .setDescription('The Discord id (or a mention of the user or role)')
      .setRequired(true)
      .setMaxLength(30),
  )
  .addStringOption(addOrRemove)
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const kind = i.options.getString('kind', true) as TargetKind;
  const side = i.options.getString('list', true) as Side;
  const add = (i.options.getString('action') ?? 'add') === 'add';
  const raw = i.options.getString('id', true);
  await change(i, ctx, 'Targets of', (f) => editTarget(f, { add, side, kind, id: idOf(raw, kind) }));
}
