import { EmbedBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { parseScope, GLOBAL, type Scope } from '../../config/scopes.js';
import { MAX_REASON_LENGTH } from '../../config/validate.js';
import { isUserError } from '../../base/errors.js';
import type { ChangeResult } from '../../transfer/snapshot-apply.js';
import type { RestorePlan } from '../../transfer/snapshot-plan.js';
import { snapshotKey } from '../../transfer/snapshots.js';
import { actorOf, contextOf } from '../access.js';
import { COLOR, code, safe } from '../render.js';
import { preview } from '../../base/text.js';
import type { CommandContext } from '../types.js';
import type { AnswerLine } from './snapshot.js';

// The parts of /config snapshot restore: what it is called and checked against, its preview,
// and what it did.

/** What a restore writes to: the snapshot's own scopes, or (a template) one scope. */
export interface RestoreTarget {
  name: string;
  target: Scope | null;
}

/** Runs the preparation of a restore; a refusal (no such snapshot, a bad scope) is audited as failed. */
export async function refusalAudited<T>(
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
export function targetScope(ctx: CommandContext, text: string): Scope {
  return parseScope(text, {
    key: 'snapshot',
    allowed: ['global', 'env', 'guild'],
    environments: ctx.config.environments,
  });
}

/** The reason each restored version carries: it names the snapshot. */
export function restoreReason(name: string, typed: string | null): string {
  const base = `Restored from snapshot ${preview(name, 64)}`;
  return (typed?.trim() ? `${base}: ${typed.trim()}` : base).slice(0, MAX_REASON_LENGTH);
}

/** A key, with its scope unless global. */
export const where = (key: string, scope: Scope) => (scope === GLOBAL ? key : `${key} · ${scope}`);

/** What a restore would change, before Confirm. */
export function previewEmbed(plan: RestorePlan, timeoutMs: number): EmbedBuilder {
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
export function tally(results: readonly ChangeResult[], unchangedBefore: number) {
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

/** What a confirmed restore did. */
export function resultEmbed(p: RestoreTarget, counts: ReturnType<typeof tally>): EmbedBuilder {
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

/** One change of a confirmed restore, for its answer and the attached file. */
export function resultLine(r: ChangeResult): AnswerLine {
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
