import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { FLAG_IMPACTS, FLAG_TYPES, type FlagImpact, type FlagType } from '@config-bot/client/flags';
import { actorOf, contextOf } from '../../src/discord/access.js';
import { answerWrite } from '../../src/discord/flag/answer.js';
import { flagAttempt, reasonOf, reasonOption } from '../../src/discord/flag/options.js';
import { writeEmbed } from '../../src/discord/flag/render.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('create')
  .setDescription('Create a flag (off, in no environment, until turned on)')
  .addStringOption((o) =>
    o
      .setName('name')
      .setDescription('lower-kebab-case: a letter, then letters, digits or dashes (new-checkout)')
      .setRequired(true)
      .setMaxLength(64),
  )
  .addStringOption((o) =>
    o.setName('description').setDescription('What it switches').setRequired(true).setMaxLength(500),
  )
  .addStringOption((o) =>
    o
      .setName('type')
      .setDescription('release, experiment, ops or permission')
      .setRequired(true)
      .addChoices(...FLAG_TYPES.map((t) => ({ name: t, value: t }))),
  )
  .addStringOption((o) =>
    o.setName('owner').setDescription('Team or person answering for it (default: you)').setMaxLength(100),
  )
  .addStringOption((o) =>
    o
      .setName('impact')
      .setDescription(
        'none, low (default), medium, high, critical: APPROVALS_REQUIRED applies to its changes',
      )
      .addChoices(...FLAG_IMPACTS.map((t) => ({ name: t, value: t }))),
  )
  .addStringOption(reasonOption);

export const requires = {
  access: 'write',
  audit: 'create',
  defer: true,
  rateLimited: true,
  attempt: flagAttempt,
} as const satisfies Requirement;

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const result = await ctx.flags.create(
    {
      name: i.options.getString('name', true).trim(),
      description: i.options.getString('description', true),
      type: i.options.getString('type', true) as FlagType,
      owner: i.options.getString('owner') ?? i.user.tag,
      impact: (i.options.getString('impact') ?? 'low') as FlagImpact,
    },
    actorOf(i),
    reasonOf(i),
    contextOf(i),
  );
  const next = `It is off until turned on: /flag on name:${result.name} (it then also gets this bot's environment, ${ctx.config.environment}, as it is on in no environment yet).`;
  await answerWrite(i, ctx, writeEmbed('Created', result).addFields({ name: 'Next', value: next }), result);
}
