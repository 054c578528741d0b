import type { ChatInputCommandInteraction } from 'discord.js';
import type { FlagDefinition } from '@config-bot/client/flags';
import { UserError } from '../../base/errors.js';
import { actorOf, contextOf } from '../access.js';
import type { CommandContext } from '../types.js';
import { answerWrite } from './answer.js';
import type { Edit } from './edits.js';
import { nameOf, normalName, reasonOf } from './options.js';
import { writeEmbed } from './render.js';

// The one way a /flag subcommand edits a flag. Access, the acknowledgement and the attempt limit
// are enforced before the subcommands run (their `requires`); every refusal below is thrown
// inside the store's write, which audits it.

/** Applies an edit to the flag as it is now, and answers with what changed. */
export async function change(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  title: string,
  edit: (f: FlagDefinition) => Edit,
): Promise<void> {
  let warnings: string[] = [];
  const result = await ctx.flags.update(
    nameOf(i),
    (f) => {
      const e = edit(f);
      warnings = e.warnings;
      return e.flag;
    },
    actorOf(i),
    reasonOf(i),
    contextOf(i),
  );
  await answerWrite(i, ctx, writeEmbed(title, result, warnings), result);
}

/** The `env` option, as environments are named. */
export const envOf = (i: ChatInputCommandInteraction) => {
  const env = i.options.getString('env');
  return env ? normalName(env) : undefined;
};

/** Exactly one of the options named, or a refusal saying which to give. */
export function oneOf(given: Record<string, boolean>, hint: string): void {
  if (Object.values(given).filter(Boolean).length !== 1)
    throw new UserError('INVALID_VALUE', `Give either ${Object.keys(given).join(' or ')}: ${hint}`);
}
