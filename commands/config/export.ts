import {
  AttachmentBuilder,
  EmbedBuilder,
  SlashCommandSubcommandBuilder,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { buildExport, MAX_FILE_BYTES } from '../../src/transfer/export-file.js';
import { UserError } from '../../src/base/errors.js';
import { actorOf, contextOf } from '../../src/discord/access.js';
import { fitted, REPLY_DEFAULTS } from '../../src/discord/reply.js';
import { COLOR } from '../../src/discord/render.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('export')
  .setDescription('Download every value in every scope as a JSON file (sensitive ones left out)')
  .addStringOption((o) =>
    o
      .setName('scope')
      .setDescription('Only this scope: global, env:<name> or guild:<server id>')
      .setMaxLength(40),
  )
  .addBooleanOption((o) =>
    o
      .setName('secrets')
      .setDescription('Include sensitive values, encrypted (admins; needs CONFIG_ENCRYPTION_KEYS)'),
  );

// secrets:true also needs write access, checked by execute (one subcommand, one requirement).
export const requires = { access: 'read', audit: 'export', defer: true } as const satisfies Requirement;

/**
 * The configuration as a JSON file, private to the admin who asked. Sensitive values are left
 * out, or with secrets:true (admins only) sealed under the current encryption key, never in
 * clear. Audited, refusals included.
 */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const secrets = i.options.getBoolean('secrets') ?? false;
  const scope = i.options.getString('scope');
  const actor = actorOf(i);
  // Read access lets a member export what /config view shows; sealed secrets are for admins.
  if (secrets) ctx.access.check(i, 'write', { key: '*', action: 'export' });
  const row = { key: '*', action: 'export' as const, actor, ...(scope ? { scope } : {}), ...contextOf(i) };
  let built;
  try {
    built = await buildExport(ctx.config, { scope, secrets });
  } catch (err) {
    if (err instanceof UserError)
      await ctx.config.audit.record({ ...row, status: 'failed', error: err.message });
    throw err;
  }
  const what = `${built.values} values${built.omitted ? `, ${built.omitted} sensitive left out` : ''}`;
  await ctx.config.audit.record({
    ...row,
    status: 'success',
    reason: `/config export of ${scope ?? 'every scope'}: ${what}${secrets ? ', sensitive values encrypted' : ''}`,
  });
  const name = `config-export-${built.file.exportedAt.replace(/[:.]/g, '-')}.json`;
  const lines = [
    `${what}${scope ? ` at ${scope}` : ''}, exported ${built.file.exportedAt}.`,
    secrets
      ? `Sensitive values are encrypted with key ${built.file.encryptionKeyId ?? '(none set)'}: only a bot with that key in CONFIG_ENCRYPTION_KEYS can import them.`
      : built.omitted
        ? 'Sensitive values are left out (secrets:true exports them encrypted).'
        : '',
    Buffer.byteLength(built.text) > MAX_FILE_BYTES
      ? 'This file is larger than the 1 MB an import reads: export one scope at a time to import it.'
      : '',
  ].filter(Boolean);
  const embed = new EmbedBuilder()
    .setColor(COLOR.ok)
    .setTitle('Configuration export')
    .setDescription(lines.join('\n'));
  await i.editReply({
    ...fitted({ embeds: [embed] }),
    files: [new AttachmentBuilder(Buffer.from(built.text, 'utf8'), { name })],
    allowedMentions: REPLY_DEFAULTS.allowedMentions,
  });
}
