import { EmbedBuilder } from 'discord.js';
import type { Impact } from '../../approvals/impact.js';
import { impactOf } from '../../approvals/impact.js';
import type { Preview } from '../../config/types.js';
import { code, COLOR, safe } from '../render.js';
import type { CommandContext } from '../types.js';

const when = (d: Date) => `<t:${Math.floor(d.getTime() / 1000)}:f>`;

/** The impact of a previewed change, with what this process knows (its scheduler, the live processes). */
export function impactFor(ctx: CommandContext, preview: Preview): Promise<Impact> {
  return impactOf(
    { config: ctx.config, scheduler: ctx.runtime?.scheduler, instances: ctx.runtime?.instances },
    preview,
  );
}

/** Adds the impact preview's fields to an embed (a dry run, a confirmation). */
export function addImpact(embed: EmbedBuilder, impact: Impact): EmbedBuilder {
  const envLines = impact.environments.map(
    (e) =>
      `${e.environment}: ${e.before}${e.before === e.after ? '' : ` → ${e.after}`}${e.note ? ` (${e.note})` : ''}`,
  );
  if (impact.serverOverrides)
    envLines.push(
      `${impact.serverOverrides} server override${impact.serverOverrides === 1 ? '' : 's'} keep their own value`,
    );
  embed.addFields({ name: 'Per environment', value: safe(envLines.join('\n') || 'none') });
  if (impact.warnings.length)
    embed.addFields({ name: '⚠️ Warnings', value: safe(impact.warnings.join('\n')) });
  embed.addFields({ name: 'Rules across keys', value: 'All still hold.' });
  for (const j of impact.jobs) {
    const runs = (r: { cron: string; timezone: string; next: Date[] }) =>
      `${code(r.cron, 100)} ${safe(r.timezone, 64)}: ${r.next.map(when).join(', ')}`;
    const after = 'error' in j.after ? `invalid: ${safe(j.after.error, 300)}` : runs(j.after);
    embed.addFields({ name: `Job ${j.job}: next runs`, value: `Now ${runs(j.before)}\nThen ${after}` });
  }
  if (impact.restart)
    embed.addFields({ name: 'Restart', value: 'Takes effect after each process restarts.' });
  embed.addFields(
    {
      name: 'Picked up by',
      value: safe(
        impact.processes.live
          ? `${impact.processes.live} live process${impact.processes.live === 1 ? '' : 'es'}: ${impact.processes.names.join(', ')}`
          : 'No process reports itself (each one still applies it).',
      ),
    },
    {
      name: 'Approvals',
      value: impact.approvals.needed
        ? `${impact.approvals.level} impact: needs ${impact.approvals.needed} approval${impact.approvals.needed === 1 ? '' : 's'} (becomes a change request)`
        : `${impact.approvals.level} impact: applies at once`,
      inline: true,
    },
    { name: 'Way back', value: safe(impact.rollback), inline: true },
  );
  return embed;
}

/** `/config set … dry-run:true`: what the set would do, with nothing written. */
export function dryRunEmbed(impact: Impact): EmbedBuilder {
  const at = impact.scope === 'global' ? '' : ` at ${impact.scope}`;
  const embed = new EmbedBuilder()
    .setColor(COLOR.muted)
    .setTitle(`Dry run: ${impact.key}${at}`)
    .setDescription(`${safe(`${impact.before} → ${impact.after}`, 1500)}\nNothing was changed.`);
  return addImpact(embed, impact);
}

/**
 * The impact of many changes at once (a snapshot restore, an import), as one embed field: the
 * approvals they need together, jobs whose schedule moves, restarts, and the way back.
 */
export function batchImpactField(
  ctx: CommandContext,
  changes: readonly { key: string; scope: string; value: unknown }[],
): { name: string; value: string } {
  const lines: string[] = [];
  const { needed, level } = ctx.config.approvalsFor(changes.map((c) => c.key));
  lines.push(
    needed
      ? `Needs ${needed} approval${needed === 1 ? '' : 's'} (${level} impact): Confirm makes one change request of all of it.`
      : 'Applies at once on Confirm (no key needs approvals).',
  );
  const scheduler = ctx.runtime?.scheduler;
  for (const c of changes) {
    if (c.scope !== 'global' && c.scope !== `env:${ctx.config.environment}`) continue;
    for (const j of scheduler?.forecast(c.key, c.value, 3) ?? []) {
      const then =
        'error' in j.after
          ? `invalid (${j.after.error})`
          : `${code(j.after.cron, 100)} ${j.after.timezone}, next ${j.after.next.map(when).join(', ')}`;
      lines.push(`Job ${j.job} (${c.key}): ${code(j.before.cron, 100)} → ${then}`);
    }
  }
  const restart = [
    ...new Set(changes.filter((c) => ctx.config.definition(c.key).requiresRestart).map((c) => c.key)),
  ];
  if (restart.length) lines.push(`After each process restarts: ${restart.join(', ')}`);
  lines.push('Way back: `/config snapshot create` first, then restore it (or roll back each key).');
  return { name: 'Impact', value: lines.join('\n').slice(0, 1024) };
}
