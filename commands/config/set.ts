import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { MAX_VALUE_LENGTH } from '../../src/config/validate.js';
import { autocomplete } from '../../src/discord/config/complete.js';
import { editorAttempt, openEditor, submitEditor } from '../../src/discord/config/editor.js';
import { reasonOption, scopeOption, settingOption } from '../../src/discord/config/options.js';
import { setValue } from '../../src/discord/config/write.js';
import type { CommandContext, Invocation, Modals, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('set')
  .setDescription('Change a setting')
  .addStringOption(settingOption)
  .addStringOption((o) =>
    o
      .setName('value')
      .setDescription('New value; leave out to edit a JSON object or a text in a form')
      .setMaxLength(MAX_VALUE_LENGTH)
      .setAutocomplete(true),
  )
  .addStringOption(reasonOption)
  .addStringOption(scopeOption)
  .addStringOption((o) =>
    o
      .setName('for')
      .setDescription('Temporary: how long it holds, then the value it replaced returns (30m, 2h, 1d)')
      .setMaxLength(10),
  )
  .addStringOption((o) =>
    o
      .setName('at')
      .setDescription('Later: when to apply it (2026-12-01 18:00, tomorrow 18:00, in 2h; SCHEDULE_TIMEZONE)')
      .setMaxLength(60),
  )
  .addBooleanOption((o) =>
    o
      .setName('dry-run')
      .setDescription('Only show what it would change (environments, jobs, approvals, way back)'),
  );

/** Whether a set has its value typed (else it opens the editor). */
function typedValue(i: Invocation): boolean {
  return !i.isChatInputCommand() || i.options.getString('value') !== null;
}

// Without a value it opens an editor, which must be the first response: no deferral then, and
// the attempt is counted when the editor is submitted.
export const requires = {
  access: 'write',
  audit: 'set',
  defer: typedValue,
  rateLimited: typedValue,
  selfService: true,
} as const satisfies Requirement;

export { autocomplete };

/** A typed value, or, for a JSON object or a text without one, the editor (editor.ts). */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const value = i.options.getString('value');
  if (value === null) return openEditor(i, ctx);
  await setValue(i, ctx, {
    setting: i.options.getString('setting', true),
    value,
    reason: i.options.getString('reason') ?? undefined,
    scope: i.options.getString('scope') ?? ctx.access.ownScope(i),
    forText: i.options.getString('for'),
    atText: i.options.getString('at'),
    dryRun: i.options.getBoolean('dry-run') === true,
  });
}

export const modals = {
  // The editor: `config:edit:<KEY>:<scope>:<version>`.
  edit: {
    requires: {
      access: 'write',
      audit: 'set',
      defer: true,
      rateLimited: true,
      selfService: true,
      attempt: editorAttempt,
    },
    run: submitEditor,
  },
} as const satisfies Modals;
