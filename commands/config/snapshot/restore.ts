import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { applyPlannedChanges } from '../../../src/transfer/snapshot-apply.js';
import { planRestore } from '../../../src/transfer/snapshot-plan.js';
import { Snapshots, snapshotKey } from '../../../src/transfer/snapshots.js';
import { actorOf, contextOf } from '../../../src/discord/access.js';
import { confirmation } from '../../../src/discord/confirm.js';
import { autocomplete } from '../../../src/discord/config/complete.js';
import { batchImpactField } from '../../../src/discord/config/impact.js';
import { reasonOption, snapshotNameOption } from '../../../src/discord/config/options.js';
import {
  previewEmbed,
  refusalAudited,
  restoreReason,
  resultEmbed,
  resultLine,
  tally,
  targetScope,
  where,
} from '../../../src/discord/config/restore.js';
import { answer, snapshotAttempt } from '../../../src/discord/config/snapshot.js';
import { code } from '../../../src/discord/render.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('restore')
  .setDescription('Write the values of a snapshot back (preview, then Confirm)')
  .addStringOption(snapshotNameOption)
  .addStringOption((o) =>
    o
      .setName('to')
      .setDescription("Template: write the snapshot's global values into this scope instead")
      .setMaxLength(40)
      .setAutocomplete(true),
  )
  .addStringOption(reasonOption);

export const requires = {
  access: 'write',
  audit: 'snapshot-restore',
  defer: true,
  rateLimited: true,
  attempt: snapshotAttempt,
} as const satisfies Requirement;

export { autocomplete };

/** Previews every change, and writes them after Confirm. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = i.options.getString('name', true);
  const reason = restoreReason(name, i.options.getString('reason'));
  const { doc, plan } = await refusalAudited(i, ctx, name, reason, async () => {
    const snapshots = new Snapshots(ctx.config);
    const toText = i.options.getString('to');
    const target = toText ? targetScope(ctx, toText) : null;
    const found = await snapshots.get(name);
    return {
      doc: found,
      plan: planRestore(ctx.config, found._id, snapshots.open(found), await snapshots.now(), target),
    };
  });
  const embed = previewEmbed(plan, ctx.confirmations.timeoutMs);
  if (plan.changes.length) embed.addFields(batchImpactField(ctx, plan.changes));
  const lines = plan.changes.map((c) => ({
    text: `${code(where(c.key, c.scope), 100)}: ${code(c.from)} → ${code(c.to)}`,
    plain: `${where(c.key, c.scope)}: ${c.from} → ${c.to}`,
  }));
  if (!plan.changes.length) {
    await answer(i, { embeds: [embed] });
    return;
  }
  const restored = { name: doc._id, target: plan.target };
  const changes = plan.changes.map(({ key, scope, value, expectedVersion }) => ({
    key,
    scope,
    value,
    expectedVersion,
  }));
  const buttons = confirmation(i, ctx, {
    what: `restore of snapshot ${doc._id}`,
    asked: 'restore',
    attempt: { key: snapshotKey(doc._id), action: 'snapshot-restore' },
    async confirm(b) {
      const actor = actorOf(b);
      const results = await applyPlannedChanges(ctx.config, changes, actor, reason, contextOf(b));
      // Values already at the snapshot's value when previewed count as unchanged, as the preview said.
      const counts = tally(results, plan.unchanged);
      await ctx.config.audit.record({
        key: snapshotKey(restored.name),
        ...(restored.target ? { scope: restored.target } : {}),
        action: 'snapshot-restore',
        status: counts.refused && !counts.restored ? 'failed' : 'success',
        actor,
        reason,
        newValue: counts,
        ...contextOf(b),
      });
      if (counts.restored) await ctx.limits.recordChange(b.user.id);
      await answer(
        b,
        { embeds: [resultEmbed(restored, counts)], components: [] },
        results.map(resultLine),
        `restored-${restored.name}.txt`,
      );
    },
  });
  await answer(i, { embeds: [embed], components: [buttons] }, lines, `restore-${doc._id}.txt`);
}
