import {
  EmbedBuilder,
  type ApplicationCommandOptionChoiceData,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { GLOBAL } from '../../config/scopes.js';
import { diffSlots, shown, type DiffLine } from '../../snapshots/plan.js';
import { Snapshots, snapshotKey, type SlotSet } from '../../snapshots/snapshots.js';
import { actorOf, contextOf } from '../access.js';
import { fitted, type Reply } from '../reply.js';
import { COLOR, code, safe, when, who } from '../render.js';
import type { CommandContext, Invocation } from '../types.js';

// Access, the acknowledgement (every one reads the database) and, for create, the attempt limit
// are enforced before these run: see `requires` in commands/config.ts.

/** The attempt a /config snapshot command stands for, for the audit row of a refusal. */
export function snapshotAttempt(i: Invocation): { key: string } {
  return { key: snapshotKey(i.isChatInputCommand() ? i.options.getString('name') : null) };
}

/** /config snapshot create: records every value in every scope under a new name. */
export async function snapshotCreate(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const summary = await new Snapshots(ctx.config).create(
    i.options.getString('name', true),
    i.options.getString('description'),
    actorOf(i),
    contextOf(i),
  );
  await ctx.limits.recordChange(i.user.id);
  const embed = new EmbedBuilder()
    .setColor(COLOR.ok)
    .setTitle(`Snapshot ${summary._id} created`)
    .setDescription(
      `${summary.count} values recorded, every scope included. Compare with \`/config snapshot diff\`, bring them back with \`/config snapshot restore\`.`,
    );
  if (summary.description) embed.addFields({ name: 'Description', value: safe(summary.description) });
  await answer(i, { embeds: [embed] });
}

/** /config snapshot list: name, description, who, when, how many values; newest first. */
export async function snapshotList(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const all = await new Snapshots(ctx.config).list();
  const embed = new EmbedBuilder().setColor(COLOR.info).setTitle('Snapshots');
  if (!all.length) embed.setDescription('No snapshots yet. Take one with `/config snapshot create`.');
  const lines = all.map((s) => ({
    text: `**${s._id}** · ${s.count} values · ${when(s.createdAt)} by ${who(s.createdBy)}${s.description ? `\n  ${safe(s.description, 200)}` : ''}`,
    plain: `${s._id}\t${s.count} values\t${s.createdAt.toISOString()}\t${s.createdBy.tag}${s.description ? `\t${s.description}` : ''}`,
  }));
  await answer(i, { embeds: [embed] }, lines, 'snapshots.txt');
}

/** /config snapshot view: every recorded value by key and scope, sensitive ones masked. */
export async function snapshotView(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const snapshots = new Snapshots(ctx.config);
  const doc = await snapshots.get(i.options.getString('name', true));
  const set = snapshots.open(doc);
  const lines = [...set.slots.values()].map((v) => {
    const where = v.scope === GLOBAL ? v.key : `${v.key} · ${v.scope}`;
    return {
      text: `${code(where, 100)} v${v.version}: ${code(shown(v))}`,
      plain: `${where} v${v.version}: ${shown(v)}`,
    };
  });
  const embed = new EmbedBuilder()
    .setColor(COLOR.info)
    .setTitle(`Snapshot ${doc._id}`)
    .setFooter({
      text: `Taken by ${doc.createdBy.tag} on ${doc.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${doc.values.length} values${unknownNote(set)}`,
    });
  if (doc.description) embed.addFields({ name: 'Description', value: safe(doc.description) });
  await answer(i, { embeds: [embed] }, lines, `snapshot-${doc._id}.txt`);
}

/** /config snapshot diff: per key and scope, what changed between a snapshot and another, or now. */
export async function snapshotDiff(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const snapshots = new Snapshots(ctx.config);
  const doc = await snapshots.get(i.options.getString('name', true));
  const againstText = i.options.getString('against')?.trim().toLowerCase() || 'now';
  const other = againstText === 'now' ? undefined : await snapshots.get(againstText);
  // Older on the left: a snapshot against now, or two snapshots in the order they were taken.
  const [older, newer, olderName, newerName] =
    other && other.createdAt < doc.createdAt
      ? [snapshots.open(other), snapshots.open(doc), other._id, doc._id]
      : [
          snapshots.open(doc),
          other ? snapshots.open(other) : await snapshots.now(),
          doc._id,
          other?._id ?? 'now',
        ];
  const { lines, same } = diffSlots(older, newer);
  const embed = new EmbedBuilder()
    .setColor(lines.length ? COLOR.warn : COLOR.ok)
    .setTitle(`${olderName} → ${newerName}`)
    .setFooter({
      text: `${lines.length} different · ${same} the same${unknownNote(older)}${unknownNote(newer)}`,
    });
  if (!lines.length) embed.setDescription('No differences: every value in every scope is the same.');
  await answer(
    i,
    { embeds: [embed] },
    lines.map((l) => diffText(l, olderName, newerName)),
    `diff-${olderName}-${newerName}.txt`,
  );
}

function diffText(l: DiffLine, olderName: string, newerName: string): { text: string; plain: string } {
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

const unknownNote = (set: SlotSet) =>
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
