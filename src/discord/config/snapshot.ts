import {
  EmbedBuilder,
  type ApplicationCommandOptionChoiceData,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { GLOBAL } from '../../config/scopes.js';
import { shown, type DiffLine } from '../../transfer/snapshot-plan.js';
import { Snapshots, snapshotKey, type SlotSet } from '../../transfer/snapshots.js';
import { fitted, type Reply } from '../reply.js';
import { code, safe } from '../render.js';
import type { CommandContext, Invocation } from '../types.js';

// What the /config snapshot subcommands share: the attempt they stand for, their long answers,
// and the suggestions for their options.

/** The attempt a /config snapshot command stands for, for the audit row of a refusal. */
export function snapshotAttempt(i: Invocation): { key: string } {
  return { key: snapshotKey(i.isChatInputCommand() ? i.options.getString('name') : null) };
}

/** One line of a snapshot diff, as the embed and the attached file show it. */
export function diffText(l: DiffLine, olderName: string, newerName: string): { text: string; plain: string } {
  const where = l.scope === GLOBAL ? l.key : `${l.key} · ${l.scope}`;
  if (l.kind === 'changed')
    return {
      text: `${code(where, 100)}: ${code(shown(l.old))} → ${code(shown(l.new))}`,
      plain: `${where}: ${shown(l.old)} → ${shown(l.new)}`,
    };
  const side = l.kind === 'old' ? olderName : newerName;
  const v = l.kind === 'old' ? l.old : l.new;
  return {
    text: `${code(where, 100)}: only in ${safe(side, 64)} (${code(shown(v))})`,
    plain: `${where}: only in ${side} (${shown(v)})`,
  };
}

/** How many values of keys no longer registered a set left out, or nothing. */
export const unknownNote = (set: SlotSet) =>
  set.unknownKeys ? ` · ${set.unknownKeys} values of keys no longer registered left out` : '';

/** One line of a long answer: as the embed shows it, and as the attached file has it. */
export interface AnswerLine {
  text: string;
  plain: string;
}

const DESCRIPTION_BUDGET = 3800;

/**
 * Edits the deferred answer: `lines` go into the first embed's description; when they do not
 * fit, the embed shows those that do and says so, and every line is attached as a text file.
 */
export async function answer(
  i: ChatInputCommandInteraction | ButtonInteraction,
  m: { embeds: EmbedBuilder[]; components?: Reply['components'] },
  lines: readonly AnswerLine[] = [],
  fileName = 'snapshot.txt',
): Promise<void> {
  const [first] = m.embeds;
  let file: Buffer | undefined;
  if (first && lines.length) {
    const lead = first.data.description ? `${first.data.description}\n\n` : '';
    const all = lines.map((l) => l.text).join('\n');
    if (lead.length + all.length <= DESCRIPTION_BUDGET) first.setDescription(lead + all);
    else {
      const kept: string[] = [];
      let size = lead.length + 120;
      for (const l of lines) {
        if (size + l.text.length + 1 > DESCRIPTION_BUDGET) break;
        kept.push(l.text);
        size += l.text.length + 1;
      }
      first.setDescription(
        `${lead}${kept.join('\n')}\n… and ${lines.length - kept.length} more: every line is in the attached ${fileName}.`,
      );
      file = Buffer.from(`${lines.map((l) => l.plain).join('\n')}\n`, 'utf8');
    }
  }
  const body = fitted({ embeds: m.embeds, ...(m.components ? { components: m.components } : {}) });
  await i.editReply({
    ...body,
    ...(file ? { files: [{ attachment: file, name: fileName }] } : {}),
    allowedMentions: { parse: [] },
  });
}

/** Suggestions for `name` and `against` (snapshot names, and `now`) and `to` (scopes). */
export async function snapshotChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  focused: { name: string; value: string },
): Promise<ApplicationCommandOptionChoiceData[]> {
  const typed = focused.value.trim().toLowerCase();
  if (focused.name === 'to') {
    const scopes = [
      GLOBAL,
      ...ctx.config.environments.map((e) => `env:${e}`),
      ...(i.guildId ? [`guild:${i.guildId}`] : []),
    ];
    return scopes.filter((s) => s.includes(typed)).map((s) => ({ name: s, value: s }));
  }
  // Creating a snapshot names a new one: nothing to suggest.
  if (i.options.getSubcommand(false) === 'create') return [];
  const names = await ctx.suggestions.get(
    `snapshot names:${typed}`,
    () => new Snapshots(ctx.config).names(typed),
    [],
  );
  const offered = focused.name === 'against' && 'now'.startsWith(typed) ? ['now', ...names] : names;
  return offered.slice(0, 25).map((n) => ({ name: n, value: n }));
}
