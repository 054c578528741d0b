import { EmbedBuilder, type APIEmbedField } from 'discord.js';
import { thresholdText } from '../../flags/diff.js';
import type { Staleness } from '../../flags/lifecycle.js';
import type { ReasonCounts } from '../../flags/usage.js';
import type { FlagVersion, FlagWrite, StoredFlag } from '../../flags/types.js';
import { conditionText, isOn, REASONS, type FlagDefinition } from '@config-bot/client/flags';
import { preview } from '../../base/text.js';
import { COLOR, LIMITS, code, safe, truncate, when, who } from '../render.js';

// Flag names, environments, ids and operators are validated to plain characters; descriptions,
// owners, attribute values and reasons are user text and go through safe().

/** One line: where it is on, and for how many. */
export function summary(f: FlagDefinition): string {
  if (f.archived) return 'archived (off everywhere)';
  if (!f.enabled) return 'off (kill switch)';
  if (!f.environments.length) return 'on in no environment (off everywhere)';
  const rules = [
    `${f.rollout}%`,
    f.conditions.length ? `${f.conditions.length} condition${f.conditions.length === 1 ? '' : 's'}` : '',
    f.prerequisites.length ? `requires ${f.prerequisites.join(', ')}` : '',
    f.start || f.end ? 'scheduled' : '',
  ].filter(Boolean);
  return `on in ${f.environments.join(', ')} · ${rules.join(' · ')}`;
}

const mention = { user: (id: string) => `<@${id}>`, role: (id: string) => `<@&${id}>`, guild: code };

function targetLines(f: FlagDefinition): string[] {
  const lines: string[] = [];
  for (const side of ['include', 'exclude'] as const)
    for (const [kind, list] of [
      ['user', f[side].users],
      ['role', f[side].roles],
      ['guild', f[side].guilds],
    ] as const)
      if (list.length)
        lines.push(
          `${side} ${kind === 'guild' ? 'servers' : `${kind}s`}: ${list.slice(0, 20).map(mention[kind]).join(', ')}${list.length > 20 ? ` and ${list.length - 20} more` : ''}`,
        );
  return lines;
}

/** The rules of a flag, one field each, in the order they are evaluated. */
export function ruleFields(f: FlagDefinition): APIEmbedField[] {
  const fields: APIEmbedField[] = [
    { name: 'State', value: summary(f), inline: false },
    // "Kill switch: on" read as "killed" to some and as "running" to others: say which.
    {
      name: 'Enabled',
      value: f.enabled ? 'yes (not killed)' : 'no (killed: off for everyone)',
      inline: true,
    },
    { name: 'Environments', value: f.environments.join(', ') || 'none (off everywhere)', inline: true },
    {
      name: 'Rollout',
      value: `${f.rollout}% by ${f.stickiness}${f.group ? ` (group ${safe(f.group, 100)})` : ''}`,
      inline: true,
    },
  ];
  if (f.start || f.end)
    fields.push({
      name: 'Schedule',
      value: `${f.start ? `from ${f.start}` : ''}${f.start && f.end ? ' ' : ''}${f.end ? `until ${f.end}` : ''}`,
    });
  const targets = targetLines(f);
  if (targets.length)
    fields.push({ name: 'Targets', value: truncate(targets.join('\n'), LIMITS.fieldValue) });
  if (f.conditions.length)
    fields.push({
      name: 'Conditions (all must hold)',
      value: truncate(
        f.conditions.map((c, i) => `${i + 1}. ${safe(conditionText(c), 200)}`).join('\n'),
        LIMITS.fieldValue,
      ),
    });
  if (f.prerequisites.length) fields.push({ name: 'Requires', value: f.prerequisites.join(', ') });
  if (f.variants.length)
    fields.push({
      name: 'Variants',
      value: truncate(
        f.variants
          .map(
            (v) =>
              `${safe(v.name, 64)} (${v.weight / 10}%)${v.payload ? `: ${v.payload.type} ${safe(preview(v.payload.value, 60), 80)}` : ''}${
                v.overrides?.length
                  ? `; pinned to ${v.overrides.map((o) => `${safe(o.attribute, 64)} ${safe(preview(o.values.join(', '), 60), 80)}`).join('; ')}`
                  : ''
              }`,
          )
          .join('\n'),
        LIMITS.fieldValue,
      ),
    });
  if (f.errorThreshold)
    fields.push({ name: 'Automatic kill', value: `at ${thresholdText(f.errorThreshold)}` });
  return fields;
}

/** Evaluations per reason, on ones first: `on 120 (rollout_in 110, included 10)`. */
export function countsLine(counts: ReasonCounts | undefined): string {
  const entries = REASONS.map((r, code) => [r, code, counts?.[r] ?? 0] as const).filter(([, , n]) => n > 0);
  if (!entries.length) return 'none';
  const side = (on: boolean) => entries.filter(([, c]) => isOn(c) === on);
  const part = (on: boolean) => {
    const list = side(on);
    const total = list.reduce((a, [, , n]) => a + n, 0);
    return `${on ? 'on' : 'off'} ${total}${list.length ? ` (${list.map(([r, , n]) => `${r} ${n}`).join(', ')})` : ''}`;
  };
  return `${part(true)}\n${part(false)}`;
}

export function viewEmbed(
  s: StoredFlag,
  usage: { counts: ReasonCounts | undefined; lastEvaluated: Date | undefined },
  stale: Staleness,
): EmbedBuilder {
  const f = s.flag;
  const embed = new EmbedBuilder()
    .setColor(f.archived ? COLOR.muted : stale.stale ? COLOR.warn : COLOR.info)
    .setTitle(`${f.name}${f.archived ? ' (archived)' : ''}`)
    .setDescription(safe(f.description, LIMITS.description))
    .addFields(
      { name: 'Type', value: f.type, inline: true },
      { name: 'Owner', value: safe(f.owner, 100), inline: true },
      { name: 'Impact', value: f.impact, inline: true },
      { name: 'Version', value: String(s.version), inline: true },
      { name: 'Last changed', value: `${when(s.updatedAt)} by ${who(s.updatedBy)}` },
      ...ruleFields(f),
      { name: 'Evaluations, last 24 h', value: countsLine(usage.counts) },
      { name: 'Last evaluated', value: usage.lastEvaluated ? when(usage.lastEvaluated) : 'never' },
    );
  if (stale.why) embed.addFields({ name: '⚠️ Stale', value: stale.why });
  return embed;
}

/** A committed write: what changed, the version, and what the admin should know. */
export function writeEmbed(title: string, w: FlagWrite, warnings: readonly string[] = []): EmbedBuilder {
  const embed = new EmbedBuilder()
    .setColor(warnings.length ? COLOR.warn : COLOR.ok)
    .setTitle(`${title} ${w.name}`)
    .addFields(
      {
        name: 'Changes',
        value: truncate(w.changes.map((c) => `• ${safe(c, 300)}`).join('\n') || 'none', LIMITS.fieldValue),
      },
      {
        name: 'Version',
        value: `${w.oldVersion} → ${w.version}${w.restoredFrom ? ` (restores v${w.restoredFrom})` : ''}`,
        inline: true,
      },
      { name: 'Now', value: summary(w.flag), inline: true },
    );
  if (warnings.length)
    embed.addFields({
      name: '⚠️ Warning',
      value: truncate(warnings.map((x) => safe(x, 500)).join('\n'), LIMITS.fieldValue),
    });
  return embed;
}

/** Versions newest first, each with who, when, why and what it changed. */
export function historyEmbed(name: string, rows: FlagVersion[]): EmbedBuilder {
  const embed = new EmbedBuilder().setColor(COLOR.info).setTitle(`History of ${name}`);
  if (!rows.length) return embed.setDescription('No versions.');
  const share = Math.floor((LIMITS.embed - 200) / rows.length) - 40;
  return embed.addFields(
    rows.map((v) => ({
      name: `v${v.version} · ${v.action}${v.restoredFrom ? ` of v${v.restoredFrom}` : ''}`,
      value: truncate(
        [
          `${who(v.actor)} · ${when(v.createdAt)}`,
          ...(v.reason ? [`“${safe(v.reason, 200)}”`] : []),
          ...v.changes.map((c) => `• ${safe(c, 200)}`),
        ].join('\n'),
        Math.max(50, Math.min(LIMITS.fieldValue, share)),
      ),
    })),
  );
}
