import { EmbedBuilder } from 'discord.js';
import type { Impact } from '../../config/impact.js';
import { impactOf } from '../../config/impact.js';
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
