import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { UserError } from '../../src/base/errors.js';
import { parseExportFile } from '../../src/transfer/export-parse.js';
import { applyImport, planImport, type ImportPlan } from '../../src/transfer/import-plan.js';
import { preview } from '../../src/base/text.js';
import { actorOf, contextOf } from '../../src/discord/access.js';
import { confirmation } from '../../src/discord/confirm.js';
import { batchImpactField } from '../../src/discord/config/impact.js';
import { downloadAttachment } from '../../src/discord/config/import-download.js';
import { planEmbed, resultEmbed, summary } from '../../src/discord/config/import-embeds.js';
import { editReply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('import')
  .setDescription('Apply an export file: shows what would change, then Confirm')
  .addAttachmentOption((o) =>
    o.setName('file').setDescription('A file from /config export or npm run config:export').setRequired(true),
  )
  .addBooleanOption((o) => o.setName('dry-run').setDescription('Only show what would change'));

export const requires = {
  access: 'write',
  audit: 'import',
  defer: true,
  rateLimited: true,
} as const satisfies Requirement;

/**
 * Downloads the file Discord holds, checks every entry against today's rules and shows what
 * would change; Confirm applies the valid changes (see applyImport), dry-run stops at the
 * preview. A file that cannot be read changes nothing.
 */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const attachment = i.options.getAttachment('file', true);
  const dryRun = i.options.getBoolean('dry-run') ?? false;
  const name = preview(attachment.name, 80);
  const row = { key: '*', actor: actorOf(i), ...contextOf(i) };
  let plan: ImportPlan;
  try {
    const bytes = await downloadAttachment({
      name: attachment.name,
      url: attachment.url,
      size: attachment.size,
    });
    plan = await planImport(ctx.config, parseExportFile(bytes));
  } catch (err) {
    if (err instanceof UserError)
      await ctx.config.audit.record({ ...row, action: 'import', status: 'failed', error: err.message });
    throw err;
  }
  const counts = summary(plan);
  if (dryRun || !plan.changes.length) {
    await ctx.config.audit.record({
      ...row,
      action: 'import-check',
      status: 'success',
      reason: `${dryRun ? 'dry run' : 'nothing to change'}: ${name}: ${counts}`,
    });
    const title = dryRun ? `Dry run: import of ${name}` : `Nothing to import from ${name}`;
    await editReply(i, {
      embeds: [planEmbed(plan, title, dryRun ? 'Nothing was changed (dry run).' : 'Nothing was changed.')],
    });
    return;
  }
  const seconds = Math.round(ctx.confirmations.timeoutMs / 1000);
  const reason = `import of ${name} (exported ${plan.exportedAt})`;
  const { changes } = plan;
  const buttons = confirmation(i, ctx, {
    what: `import of ${name}`,
    asked: 'import',
    attempt: { key: '*', action: 'import' },
    async confirm(b) {
      const results = await applyImport(ctx.config, changes, actorOf(b), reason, contextOf(b));
      if (results.some((r) => r.status === 'imported')) await ctx.limits.recordChange(b.user.id);
      await editReply(b, { embeds: [resultEmbed(name, results)], components: [] });
    },
  });
  await editReply(i, {
    embeds: [
      planEmbed(
        plan,
        `Import ${changes.length} change${changes.length === 1 ? '' : 's'} from ${name}?`,
        `Confirm within ${seconds} seconds to apply the changes below; the rest is left as it is.`,
      ).addFields(batchImpactField(ctx, changes)),
    ],
    components: [buttons],
  });
}
