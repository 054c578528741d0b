import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { actorOf, contextOf } from '../../src/discord/access.js';
import { confirmation } from '../../src/discord/confirm.js';
import { autocomplete } from '../../src/discord/config/complete.js';
import { addImpact, impactFor } from '../../src/discord/config/impact.js';
import { reasonOption, scopeOption, settingOption } from '../../src/discord/config/options.js';
import { previewEmbed } from '../../src/discord/config/render.js';
import { answerWrite } from '../../src/discord/config/write.js';
import { editReply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('rollback')
  .setDescription('Restore the value of an earlier version (as a new version)')
  .addStringOption(settingOption)
  .addIntegerOption((o) =>
    o
      .setName('version')
      .setDescription('Version to restore')
      .setRequired(true)
      .setMinValue(1)
      .setAutocomplete(true),
  )
  .addStringOption(reasonOption)
  .addStringOption(scopeOption);

export const requires = {
  access: 'write',
  audit: 'rollback',
  defer: true,
  rateLimited: true,
  selfService: true,
} as const satisfies Requirement;

export { autocomplete };

/** Shows what the rollback would change (with its impact), then Confirm writes it. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const toVersion = i.options.getInteger('version', true);
  const reason = i.options.getString('reason') ?? undefined;
  const preview = await ctx.config.previewRollback(
    i.options.getString('setting', true),
    toVersion,
    actorOf(i),
    reason,
    contextOf(i),
    { scope: i.options.getString('scope') ?? ctx.access.ownScope(i) },
  );
  const embed = addImpact(
    previewEmbed('rollback', preview, ctx.confirmations.timeoutMs),
    await impactFor(ctx, preview),
  );
  const { key, scope } = preview;
  const buttons = confirmation(i, ctx, {
    what: `rollback of ${key}`,
    asked: 'rollback',
    attempt: { key, action: 'rollback', scope },
    // The service refuses (and audits) the write if the key moved since the preview.
    async confirm(b) {
      const guard = { expectedVersion: preview.currentVersion, scope };
      const result = await ctx.config.rollback(key, toVersion, actorOf(b), reason, contextOf(b), guard);
      await answerWrite(b, ctx, result, { components: [] });
    },
  });
  await editReply(i, { embeds: [embed], components: [buttons] });
}
