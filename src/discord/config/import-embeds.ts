import { EmbedBuilder, type APIEmbedField } from 'discord.js';
import { planLines, resultLine, type ApplyResult, type ImportPlan } from '../../transfer/import-plan.js';
import { COLOR, safe } from '../render.js';

// The embeds of /config import: the plan a file makes, and what applying it did.

/** The plan in one line: how many to change, unchanged, invalid, unknown, left out. */
export function summary(plan: ImportPlan): string {
  const l = planLines(plan);
  return [
    `${l.changed.length} to change`,
    `${l.unchanged.length} unchanged`,
    `${l.invalid.length} invalid`,
    `${l.unknown.length} unknown`,
    ...(l.omitted.length ? [`${l.omitted.length} left out`] : []),
  ].join(', ');
}

/** The plan of an import, under `title`, with `note` saying what happens next. */
export function planEmbed(plan: ImportPlan, title: string, note: string): EmbedBuilder {
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

/** What an import did, key by key. */
export function resultEmbed(fileName: string, results: readonly ApplyResult[]): EmbedBuilder {
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
