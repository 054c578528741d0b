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
  .setName('reset')
  .setDescription('Set a setting back to its default, or remove an override (as a new version)')
  .addStringOption(settingOption)
  .addStringOption(reasonOption)
  .addStringOption(scopeOption);

export const requires = {
  access: 'write',
  audit: 'reset',
  defer: true,
  rateLimited: true,
  selfService: true,
} as const satisfies Requirement;

export { autocomplete };

/** Shows what the reset would change (with its impact), then Confirm writes it. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const reason = i.options.getString('reason') ?? undefined;
  const preview = await ctx.config.previewReset(
    i.options.getString('setting', true),
    actorOf(i),
    reason,
    contextOf(i),
    { scope: i.options.getString('scope') ?? ctx.access.ownScope(i) },
  );
  const embed = addImpact(
    previewEmbed('reset', preview, ctx.confirmations.timeoutMs),
    await impactFor(ctx, preview),
  );
  const { key, scope } = preview;
  const buttons = confirmation(i, ctx, {
    what: `reset of ${key}`,
    asked: 'reset',
    attempt: { key, action: 'reset', scope },
    // The service refuses (and audits) the write if the key moved since the preview.
    async confirm(b) {
      const guard = { expectedVersion: preview.currentVersion, scope };
      const result = await ctx.config.reset(key, actorOf(b), reason, contextOf(b), guard);
      await answerWrite(b, ctx, result, { components: [] });
    },
  });
  await editReply(i, { embeds: [embed], components: [buttons] });
}
