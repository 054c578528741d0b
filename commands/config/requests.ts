import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import type { RequestStatus } from '../../src/approvals/requests.js';
import { listLine } from '../../src/discord/requests/render.js';
import { STATUS_CHOICES } from '../../src/discord/requests/options.js';
import { COLOR, LIMITS, truncate } from '../../src/discord/render.js';
import { editReply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('requests')
  .setDescription('Change requests waiting for approval, and earlier ones, newest first')
  .addStringOption((o) =>
    o
      .setName('status')
      .setDescription('Only requests in this state')
      .addChoices(...STATUS_CHOICES),
  );

// Anyone with read access follows change requests; each step is a write of its own.
export const requires = { access: 'read', audit: 'list', defer: true } as const satisfies Requirement;

/** Newest first, of one status or all. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const status = (i.options.getString('status') ?? undefined) as RequestStatus | undefined;
  const found = await ctx.config.requests.list(status, 25);
  const title = status ? `Change requests: ${status}` : 'Change requests';
  const description = found.length
    ? found.map(listLine).join('\n')
    : `No ${status ? `${status} ` : ''}change requests.`;
  await editReply(i, {
    embeds: [
      {
        color: COLOR.info,
        title,
        description: truncate(description, LIMITS.description),
        footer: { text: 'Newest first · /config request view id:<id> for one' },
      },
    ],
  });
}
