import { EmbedBuilder, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { tokenTtl, type TokenAccess } from '../../../src/tokens/tokens.js';
import { actorOf } from '../../../src/discord/access.js';
import {
  audited,
  described,
  summaryFields,
  tokenAttempt,
  tokenAutocomplete,
} from '../../../src/discord/config/tokens.js';
import { COLOR, safe } from '../../../src/discord/render.js';
import { editReply } from '../../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('create')
  .setDescription('Create an API token; it is shown once')
  .addStringOption((o) =>
    o
      .setName('name')
      .setDescription('What to call it: 2-32 lower-case letters, digits, - or _')
      .setRequired(true)
      .setMaxLength(32),
  )
  .addStringOption((o) =>
    o
      .setName('access')
      .setDescription('read: view values; write: also change them')
      .setRequired(true)
      .addChoices({ name: 'read', value: 'read' }, { name: 'write', value: 'write' }),
  )
  .addBooleanOption((o) =>
    o.setName('sensitive').setDescription('May read sensitive values in clear (default: masked)'),
  )
  .addStringOption((o) =>
    o
      .setName('scope')
      .setDescription('Only this scope: env:<name> or guild:<server id> (default: every scope)')
      .setMaxLength(40)
      .setAutocomplete(true),
  )
  .addStringOption((o) =>
    o
      .setName('expires')
      .setDescription('Stops working after this long: 1h to 366d, e.g. 90d (default: until revoked)')
      .setMaxLength(12),
  );

// Tokens reach the whole configuration over HTTP: admins only.
export const requires = {
  access: 'write',
  audit: 'token-create',
  defer: true,
  rateLimited: true,
  attempt: tokenAttempt,
} as const satisfies Requirement;

export const autocomplete = tokenAutocomplete;

/** The token is shown here once, and nowhere else ever. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = i.options.getString('name', true);
  const { token, record } = await audited(
    i,
    ctx,
    'token-create',
    name,
    () =>
      ctx.tokens.create(
        {
          name,
          access: i.options.getString('access', true) as TokenAccess,
          sensitive: i.options.getBoolean('sensitive') ?? false,
          scope: i.options.getString('scope'),
          ttlMs: tokenTtl(i.options.getString('expires')),
          actor: actorOf(i),
        },
        ctx.config.environments,
      ),
    (r) => described(r.record),
  );
  await ctx.limits.recordChange(i.user.id);
  const embed = new EmbedBuilder()
    .setColor(COLOR.ok)
    .setTitle(`Token ${safe(record.name, 100)} created`)
    .setDescription(
      `\`\`\`\n${token}\n\`\`\`\nShown this once only: copy it now. Send it to the HTTP API as ` +
        '`Authorization: Bearer <token>`; revoke it with `/config token revoke`.',
    )
    .addFields(summaryFields(record));
  await editReply(i, { embeds: [embed] });
}
