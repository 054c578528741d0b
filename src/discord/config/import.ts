import { answerExpired, confirmRow } from '../confirm-ui.js';
import { batchImpactField } from './impact.js';
import {
  EmbedBuilder,
  type APIEmbedField,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import {
  applyImport,
  parseExportFile,
  planImport,
  planLines,
  resultLine,
  type ApplyResult,
  type ImportPlan,
} from '../../config/transfer.js';
import { UserError } from '../../errors.js';
import { preview } from '../../text.js';
import { actorOf, contextOf } from '../access.js';
import { editReply, update } from '../reply.js';
import { COLOR, safe } from '../render.js';
import type { CommandContext, Invocation } from '../types.js';
import { customIdPart } from '../preconditions.js';
import { downloadAttachment } from './import-download.js';
import { pendingImports } from './import-pending.js';

/**
 * /config import file:<export file> [dry-run]: downloads the file Discord holds, checks every
 * entry against today's rules and shows what would change; Confirm applies the valid changes
 * (see applyImport), dry-run stops at the preview. A file that cannot be read changes nothing.
 */
export async function importConfig(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
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
  const id = pendingImports(ctx).create(
    { userId: i.user.id, fileName: name, changes: plan.changes, reason },
    async () => {
      await editReply(i, {
        embeds: [
          new EmbedBuilder()
            .setColor(COLOR.muted)
            .setTitle(`Expired: import of ${name}`)
            .setDescription(`Not confirmed within ${seconds} seconds; nothing was changed.`),
        ],
        components: [],
      });
    },
  );
  const buttons = confirmRow(`config:import:${id}:yes`, `config:import:${id}:no`);
  await editReply(i, {
    embeds: [
      planEmbed(
        plan,
        `Import ${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'} from ${name}?`,
        `Confirm within ${seconds} seconds to apply the changes below; the rest is left as it is.`,
      ).addFields(batchImpactField(ctx, plan.changes)),
    ],
    components: [buttons],
  });
}

/** What a Confirm or Cancel of an import concerns, for the dispatcher; null once it is gone. */
export function importAttempt(i: Invocation, ctx: CommandContext) {
  return pendingImports(ctx).peek(customIdPart(i, 2)) ? { key: '*', action: 'import' as const } : null;
}

/** Confirm and Cancel of an import: custom id `config:import:<id>:yes|no`. */
export async function importButton(i: ButtonInteraction, ctx: CommandContext, id: string, answer: string) {
  const store = pendingImports(ctx);
  const pending = store.peek(id);
  if (!pending) {
    await answerExpired(
      i,
      'This import expired or was already confirmed; nothing was changed. Run it again.',
    );
    return;
  }
  if (pending.userId !== i.user.id)
    throw new UserError(
      'PERMISSION_DENIED',
      'Only the admin who asked for this import can confirm or cancel it.',
      { key: '*', action: 'import' },
      `import of ${pending.userId} pressed by ${i.user.id}`,
    );
  store.take(id);
  if (answer !== 'yes') {
    await update(i, {
      embeds: [
        new EmbedBuilder()
          .setColor(COLOR.muted)
          .setTitle(`Cancelled: import of ${pending.fileName}`)
          .setDescription('Nothing was changed.'),
      ],
      components: [],
    });
    return;
  }
  await i.deferUpdate();
  const results = await applyImport(ctx.config, pending.changes, actorOf(i), pending.reason, contextOf(i));
  if (results.some((r) => r.status === 'imported')) await ctx.limits.recordChange(i.user.id);
  await editReply(i, { embeds: [resultEmbed(pending.fileName, results)], components: [] });
}

function summary(plan: ImportPlan): string {
  const l = planLines(plan);
  return [
    `${l.changed.length} to change`,
    `${l.unchanged.length} unchanged`,
    `${l.invalid.length} invalid`,
    `${l.unknown.length} unknown`,
    ...(l.omitted.length ? [`${l.omitted.length} left out`] : []),
  ].join(', ');
}

function planEmbed(plan: ImportPlan, title: string, note: string): EmbedBuilder {
  const l = planLines(plan);
  return new EmbedBuilder()
    .setColor(l.invalid.length || l.unknown.length ? COLOR.warn : COLOR.info)
    .setTitle(title)
    .setDescription(`${safe(summary(plan))}.\n${note}`)
    .addFields(
      ...[
        listField('Changes', l.changed),
        listField('Invalid (not imported)', l.invalid),
        listField('Unknown keys (not imported)', l.unknown),
        listField('Unchanged', l.unchanged),
        listField('Left out of the file', l.omitted),
      ].filter((f): f is APIEmbedField => f !== undefined),
    );
}

function resultEmbed(fileName: string, results: readonly ApplyResult[]): EmbedBuilder {
  const by = (s: ApplyResult['status']) => results.filter((r) => r.status === s).map(resultLine);
  const failed = by('failed');
  const imported = by('imported');
  return new EmbedBuilder()
    .setColor(failed.length ? COLOR.warn : COLOR.ok)
    .setTitle(`Imported ${imported.length} of ${results.length} changes from ${fileName}`)
    .addFields(
      ...[
        listField('Imported', imported),
        listField('Unchanged', by('unchanged')),
        listField('Sent for approval (change requests)', by('requested')),
        listField('Failed', failed),
      ].filter((f): f is APIEmbedField => f !== undefined),
    );
}

/** A field listing lines, as many as fit, then how many more there are. */
function listField(name: string, lines: readonly string[]): APIEmbedField | undefined {
  if (!lines.length) return undefined;
  const shown: string[] = [];
  let length = 0;
  for (const line of lines) {
    const text = safe(line, 300);
    if (length + text.length + 40 > 1000) break;
    shown.push(text);
    length += text.length + 1;
  }
  const more = lines.length - shown.length;
  return {
    name: `${name} (${lines.length})`,
    value: [...shown, ...(more ? [`… and ${more} more`] : [])].join('\n'),
  };
}
