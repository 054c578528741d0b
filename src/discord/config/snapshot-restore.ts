import { answerExpired, confirmRow } from '../confirm-ui.js';
import { EmbedBuilder, type ButtonInteraction, type ChatInputCommandInteraction } from 'discord.js';
import { parseScope, GLOBAL, type Scope } from '../../config/scopes.js';
import { MAX_REASON_LENGTH } from '../../config/validate.js';
import { isUserError, UserError } from '../../errors.js';
import { applyPlannedChanges, type ChangeResult } from '../../snapshots/apply.js';
import { planRestore, type PlannedChange, type RestorePlan } from '../../snapshots/plan.js';
import { Snapshots, snapshotKey } from '../../snapshots/snapshots.js';
import { actorOf, contextOf } from '../access.js';
import { editReply, update } from '../reply.js';
import { COLOR, code, safe } from '../render.js';
import { preview } from '../../text.js';
import { customIdPart } from '../preconditions.js';
import type { CommandContext, Invocation } from '../types.js';
import { batchImpactField } from './impact.js';
import { answer, type AnswerLine } from './snapshot.js';

/** A previewed restore waiting for its Confirm button (in ctx.restores). */
export interface PendingRestore {
  userId: string;
  name: string;
  target: Scope | null;
  changes: PlannedChange[];
  /** Values already at the snapshot's value when previewed (counted as unchanged in the result). */
  unchanged: number;
  reason: string | undefined;
}

const peek = (ctx: CommandContext, id: string): PendingRestore | undefined => ctx.restores.peek(id);

/** The restore a Confirm or Cancel stands for; null once it expired or was used. */
export function restoreAttempt(i: Invocation, ctx: CommandContext) {
  const p = peek(ctx, customIdPart(i, 2));
  return p ? { key: snapshotKey(p.name), action: 'snapshot-restore' as const } : null;
}

/** /config snapshot restore: previews every change, and writes them after Confirm. */
export async function snapshotRestore(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
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
  const id = ctx.restores.create(
    {
      userId: i.user.id,
      name: doc._id,
      target: plan.target,
      changes: plan.changes.map(({ key, scope, value, expectedVersion }) => ({
        key,
        scope,
        value,
        expectedVersion,
      })),
      unchanged: plan.unchanged,
      reason,
    },
    async () => {
      await editReply(i, {
        embeds: [
          new EmbedBuilder()
            .setColor(COLOR.muted)
            .setTitle(`Expired: restore of snapshot ${doc._id}`)
            .setDescription(
              `Not confirmed within ${Math.round(ctx.confirmations.timeoutMs / 1000)} seconds; nothing was changed.`,
            ),
        ],
        components: [],
      });
    },
  );
  const row = confirmRow(`config:snapok:${id}`, `config:snapno:${id}`);
  await answer(i, { embeds: [embed], components: [row] }, lines, `restore-${doc._id}.txt`);
}

/** Confirm (`config:snapok:<id>`) and Cancel (`config:snapno:<id>`) of a previewed restore. */
export async function restoreButton(
  i: ButtonInteraction,
  ctx: CommandContext,
  confirmed: boolean,
  id: string,
): Promise<void> {
  const p = peek(ctx, id);
  if (!p) {
    await answerExpired(i);
    return;
  }
  if (p.userId !== i.user.id)
    throw new UserError(
      'PERMISSION_DENIED',
      'Only the admin who asked for this restore can confirm or cancel it.',
      { key: snapshotKey(p.name), action: 'snapshot-restore' },
      `restore confirmation of ${p.userId} pressed by ${i.user.id}`,
    );
  ctx.restores.take(id);
  if (!confirmed) {
    await update(i, {
      embeds: [
        new EmbedBuilder()
          .setColor(COLOR.muted)
          .setTitle(`Cancelled: restore of snapshot ${p.name}`)
          .setDescription('Nothing was changed.'),
      ],
      components: [],
    });
    return;
  }
  await i.deferUpdate();
  const actor = actorOf(i);
  const results = await applyPlannedChanges(ctx.config, p.changes, actor, p.reason, contextOf(i));
  const counts = tally(results, p.unchanged);
  await ctx.config.audit.record({
    key: snapshotKey(p.name),
    ...(p.target ? { scope: p.target } : {}),
    action: 'snapshot-restore',
    status: counts.refused && !counts.restored ? 'failed' : 'success',
    actor,
    reason: p.reason,
    newValue: counts,
    ...contextOf(i),
  });
  if (counts.restored) await ctx.limits.recordChange(i.user.id);
  await answer(
    i,
    { embeds: [resultEmbed(p, counts)], components: [] },
    results.map(resultLine),
    `restored-${p.name}.txt`,
  );
}

/** Runs the preparation of a restore; a refusal (no such snapshot, a bad scope) is audited as failed. */
async function refusalAudited<T>(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  name: string,
  reason: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    await ctx.config.audit.record({
      key: snapshotKey(name),
      action: 'snapshot-restore',
      status: 'failed',
      actor: actorOf(i),
      reason,
      error: isUserError(err) ? err.message : 'internal error (logged)',
      ...contextOf(i),
    });
    throw err;
  }
}

/** The scope typed in `to:`, checked against ENVIRONMENTS and the form of a server id. */
function targetScope(ctx: CommandContext, text: string): Scope {
  return parseScope(text, {
    key: 'snapshot',
    allowed: ['global', 'env', 'guild'],
    environments: ctx.config.environments,
  });
}

/** The reason each restored version carries: it names the snapshot. */
function restoreReason(name: string, typed: string | null): string {
  const base = `Restored from snapshot ${preview(name, 64)}`;
  return (typed?.trim() ? `${base}: ${typed.trim()}` : base).slice(0, MAX_REASON_LENGTH);
}

const where = (key: string, scope: Scope) => (scope === GLOBAL ? key : `${key} · ${scope}`);

function previewEmbed(plan: RestorePlan, timeoutMs: number): EmbedBuilder {
  const title = plan.target
    ? `Apply snapshot ${plan.snapshot} to ${plan.target}?`
    : `Restore snapshot ${plan.snapshot}?`;
  const embed = new EmbedBuilder().setColor(plan.changes.length ? COLOR.warn : COLOR.ok);
  if (!plan.changes.length)
    embed
      .setTitle(plan.target ? `Nothing to apply to ${plan.target}` : 'Nothing to restore')
      .setDescription(`Every value of snapshot ${plan.snapshot} is already in place; nothing was changed.`);
  else
    embed
      .setTitle(title)
      .setDescription(
        `${plan.changes.length} ${plan.changes.length === 1 ? 'value changes' : 'values change'}, each as a new version (action restore). Confirm within ${Math.round(timeoutMs / 1000)} seconds.` +
          (plan.target ? ` Only the snapshot's global values are written, at ${plan.target}.` : ''),
      );
  embed.addFields({ name: 'Unchanged', value: `${plan.unchanged} already at the snapshot's value` });
  if (plan.skipped.length)
    embed.addFields({
      name: `Skipped (${plan.skipped.length})`,
      value: plan.skipped.map((s) => `${code(where(s.key, s.scope), 100)}: ${safe(s.why, 300)}`).join('\n'),
    });
  if (plan.kept.length)
    embed.addFields({
      name: `Not in the snapshot, left as they are (${plan.kept.length})`,
      value:
        plan.kept.map((k) => code(where(k.key, k.scope), 100)).join(', ') +
        '\nRemove one with /config reset and its scope.',
    });
  return embed;
}

/** What the restore did; `unchanged` counts the preview's unchanged values too, as the preview did. */
function tally(results: readonly ChangeResult[], unchangedBefore: number) {
  const count = (s: ChangeResult['status']) => results.filter((r) => r.status === s).length;
  const requests = [...new Set(results.flatMap((r) => (r.status === 'requested' ? [r.request] : [])))];
  return {
    restored: count('restored'),
    unchanged: unchangedBefore + count('unchanged'),
    refused: count('refused'),
    requested: count('requested'),
    requests,
  };
}

function resultEmbed(p: PendingRestore, counts: ReturnType<typeof tally>): EmbedBuilder {
  const what = p.target ? `Applied snapshot ${p.name} to ${p.target}` : `Restored snapshot ${p.name}`;
  return new EmbedBuilder()
    .setColor(counts.refused ? COLOR.warn : COLOR.ok)
    .setTitle(counts.restored ? what : `Nothing restored from snapshot ${p.name}`)
    .setDescription(
      `${counts.restored} restored · ${counts.unchanged} unchanged · ${counts.refused} refused` +
        (counts.requests.length
          ? `\n${counts.requested} need approval: change request ${counts.requests.join(', ')}`
          : '') +
        (counts.refused
          ? '\nRefused keys were left as they are; run the restore again to see them now.'
          : ''),
    );
}

function resultLine(r: ChangeResult): AnswerLine {
  const at = where(r.key, r.scope);
  if (r.status === 'restored')
    return { text: `✓ ${code(at, 100)} → v${r.version}`, plain: `restored ${at} → v${r.version}` };
  if (r.status === 'unchanged')
    return { text: `= ${code(at, 100)}: already at the snapshot's value`, plain: `unchanged ${at}` };
  if (r.status === 'requested')
    return {
      text: `⏳ ${code(at, 100)}: needs approval, change request ${code(r.request, 20)}`,
      plain: `requested ${at}: change request ${r.request}`,
    };
  return { text: `✗ ${code(at, 100)}: ${safe(r.why, 400)}`, plain: `refused ${at}: ${r.why}` };
}
