import type {
  APIActionRowComponent,
  APIApplicationCommandOptionChoice,
  APIComponentInMessageActionRow,
  APIEmbed,
  APIEmbedField,
} from 'discord-api-types/v10';
import {
  codePoints,
  discordLength,
  embedSize,
  MESSAGE_LIMITS,
  type ComponentLike,
  type MessageBody,
} from './limits.js';

// Making a body fit Discord's limits (limits.ts) before it is sent: see fitMessage.

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `text` cut to at most `max` characters as Discord counts them, ending with `…` when cut. Cuts
 * fall between grapheme clusters, so an emoji sequence or an accented letter is never split, and
 * a backslash left dangling before the `…` is dropped (it would escape it).
 */
export function clip(text: string, max: number): string {
  if (discordLength(text) <= max) return text;
  let out = '';
  let n = 0;
  for (const { segment } of graphemes.segment(text.trim())) {
    const len = codePoints(segment);
    if (n + len > max - 1) break;
    out += segment;
    n += len;
  }
  out = out.trimEnd();
  const slashes = /\\+$/.exec(out)?.[0].length ?? 0;
  if (slashes % 2) out = out.slice(0, -1);
  return `${out}…`;
}

/** Discord refuses empty field names and values; a zero-width space is the usual stand-in. */
const nonEmpty = (text: string | undefined) => (text && discordLength(text) > 0 ? text : '\u200b');

function fitEmbed(e: APIEmbed): APIEmbed {
  const out: APIEmbed = { ...e };
  if (e.title !== undefined) out.title = clip(e.title, MESSAGE_LIMITS.embedTitle);
  if (e.description !== undefined) out.description = clip(e.description, MESSAGE_LIMITS.embedDescription);
  if (e.footer) {
    if (discordLength(e.footer.text ?? ''))
      out.footer = { ...e.footer, text: clip(e.footer.text, MESSAGE_LIMITS.footerText) };
    else delete out.footer;
  }
  if (e.author) {
    if (discordLength(e.author.name ?? ''))
      out.author = { ...e.author, name: clip(e.author.name, MESSAGE_LIMITS.authorName) };
    else delete out.author;
  }
  if (e.fields) {
    out.fields = e.fields.map((f) => ({
      ...f,
      name: clip(nonEmpty(f.name), MESSAGE_LIMITS.fieldName),
      value: clip(nonEmpty(f.value), MESSAGE_LIMITS.fieldValue),
    }));
  }
  return out;
}

/** The field that replaces fields that were dropped. */
export function notShownField(count: number): APIEmbedField {
  return {
    name: 'Not shown',
    value: `${count} more ${count === 1 ? 'field' : 'fields'} did not fit in this message.`,
  };
}

const fieldSize = (f: APIEmbedField) => discordLength(f.name) + discordLength(f.value);
const noteSize = (dropped: number) => (dropped ? fieldSize(notShownField(dropped)) : 0);

/**
 * Embeds whose fields were cut: each keeps its first fields and, last, one field saying how many
 * were not shown. Sizes are counted once and kept up to date, so cutting many long fields stays
 * linear in the size of the message.
 */
class FieldBudget {
  private readonly kept: { field: APIEmbedField; size: number }[][];
  private readonly dropped: number[];
  private total: number;

  constructor(private readonly embeds: APIEmbed[]) {
    this.kept = embeds.map((e) => (e.fields ?? []).map((field) => ({ field, size: fieldSize(field) })));
    // At most 25 fields, the note included.
    this.dropped = this.kept.map((fields) =>
      fields.length > MESSAGE_LIMITS.embedFields ? fields.splice(MESSAGE_LIMITS.embedFields - 1).length : 0,
    );
    this.total = embeds.reduce((sum, e, i) => {
      const fields = this.kept[i] ?? [];
      const text = embedSize({ ...e, fields: [] });
      return sum + text + fields.reduce((a, f) => a + f.size, 0) + noteSize(this.dropped[i] ?? 0);
    }, 0);
  }

  result(): APIEmbed[] {
    return this.embeds.map((e, i) => {
      const dropped = this.dropped[i] ?? 0;
      const fields = [
        ...(this.kept[i] ?? []).map((f) => f.field),
        ...(dropped ? [notShownField(dropped)] : []),
      ];
      return e.fields ? { ...e, fields } : e;
    });
  }

  size(): number {
    return this.total;
  }

  /** Drops the last field still shown, from the last embed that has one; false when none is left. */
  dropLast(): boolean {
    for (let i = this.kept.length - 1; i >= 0; i--) {
      const last = this.kept[i]?.pop();
      if (!last) continue;
      const before = this.dropped[i] ?? 0;
      this.dropped[i] = before + 1;
      this.total += noteSize(before + 1) - noteSize(before) - last.size;
      return true;
    }
    return false;
  }
}

/** The free texts of an embed, which give way when its fields alone cannot bring a message under 6000. */
const TEXTS: { get(e: APIEmbed): string | undefined; set(e: APIEmbed, text: string): APIEmbed }[] = [
  { get: (e) => e.title, set: (e, title) => ({ ...e, title }) },
  { get: (e) => e.description, set: (e, description) => ({ ...e, description }) },
  { get: (e) => e.footer?.text, set: (e, text) => ({ ...e, footer: { ...e.footer, text } }) },
  { get: (e) => e.author?.name, set: (e, name) => ({ ...e, author: { ...e.author, name } }) },
];

/**
 * Cuts the longest free texts down to one common length, the largest at which the embeds fit,
 * so that ten long descriptions each keep their beginning rather than most of them vanishing.
 */
function levelTexts(embeds: APIEmbed[]): APIEmbed[] {
  const lengths = embeds.flatMap((e) => TEXTS.map((t) => discordLength(t.get(e) ?? '')));
  const total = embeds.reduce((sum, e) => sum + embedSize(e), 0);
  const budget = MESSAGE_LIMITS.embedsTotal - (total - lengths.reduce((a, b) => a + b, 0));
  const within = (cap: number) => lengths.reduce((sum, n) => sum + Math.min(n, cap), 0) <= budget;
  let lo = 1;
  let hi = Math.max(1, ...lengths);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (within(mid)) lo = mid;
    else hi = mid - 1;
  }
  return embeds.map((e) =>
    TEXTS.reduce((acc, t) => {
      const text = t.get(acc);
      return text !== undefined && discordLength(text) > lo ? t.set(acc, clip(text, lo)) : acc;
    }, e),
  );
}

function fitEmbeds(input: APIEmbed[]): APIEmbed[] {
  if (input.length > MESSAGE_LIMITS.embeds)
    throw new Error(`A message has at most ${MESSAGE_LIMITS.embeds} embeds; this one has ${input.length}`);
  const budget = new FieldBudget(input.map(fitEmbed));
  while (budget.size() > MESSAGE_LIMITS.embedsTotal) if (!budget.dropLast()) break;
  let embeds = budget.result();
  // Every field gone and still too long: the free texts give way.
  if (budget.size() > MESSAGE_LIMITS.embedsTotal) embeds = levelTexts(embeds);
  if (embeds.reduce((sum, e) => sum + embedSize(e), 0) > MESSAGE_LIMITS.embedsTotal)
    throw new Error(`Could not fit the embeds into ${MESSAGE_LIMITS.embedsTotal} characters`);
  return embeds;
}

function fitComponents(
  rows: APIActionRowComponent<APIComponentInMessageActionRow>[],
): APIActionRowComponent<APIComponentInMessageActionRow>[] {
  // Ids and layout are chosen by code, not by data: breaking these limits is a bug to fix.
  if (rows.length > MESSAGE_LIMITS.actionRows)
    throw new Error(
      `A message has at most ${MESSAGE_LIMITS.actionRows} action rows; this one has ${rows.length}`,
    );
  const seen = new Set<string>();
  return rows.map((row, r) => {
    if (row.components.length > MESSAGE_LIMITS.buttonsPerRow)
      throw new Error(
        `Action row ${r} has ${row.components.length} components; at most ${MESSAGE_LIMITS.buttonsPerRow}`,
      );
    return {
      ...row,
      components: row.components.map((c) => {
        const item = c as ComponentLike;
        if (typeof item.custom_id === 'string') {
          if (discordLength(item.custom_id) > MESSAGE_LIMITS.customId)
            throw new Error(
              `custom_id ${item.custom_id.slice(0, 40)}… is longer than ${MESSAGE_LIMITS.customId}`,
            );
          if (seen.has(item.custom_id))
            throw new Error(`Duplicate custom_id ${item.custom_id} in one message`);
          seen.add(item.custom_id);
        }
        return typeof item.label === 'string'
          ? ({ ...c, label: clip(item.label, MESSAGE_LIMITS.buttonLabel) } as typeof c)
          : c;
      }),
    };
  });
}

function fitChoices(choices: APIApplicationCommandOptionChoice[]): APIApplicationCommandOptionChoice[] {
  return (
    choices
      // A value comes back to the bot as typed: shortening it would make it name something else.
      .filter((c) => typeof c.value !== 'string' || discordLength(c.value) <= MESSAGE_LIMITS.choiceValue)
      .map((c) => ({ ...c, name: clip(nonEmptyName(c), MESSAGE_LIMITS.choiceName) }))
      .slice(0, MESSAGE_LIMITS.choices)
  );
}

const nonEmptyName = (c: APIApplicationCommandOptionChoice) =>
  discordLength(c.name ?? '') ? c.name : String(c.value) || '\u200b';

/**
 * A body that Discord accepts, made from one that may not: long texts are cut with `…`, fields
 * that do not fit (more than 25 in an embed, or over 6000 characters in all) are replaced by one
 * last field saying how many were not shown, autocomplete choices are cut to 25. Breaking a
 * limit that code controls (duplicate or over-long custom ids, too many embeds, rows or buttons)
 * throws: that is a bug, not data. The input is not modified.
 */
export function fitMessage<T extends MessageBody>(body: T): T {
  const out: MessageBody = { ...body };
  if (typeof body.content === 'string') out.content = clip(body.content, MESSAGE_LIMITS.content);
  if (body.embeds) out.embeds = fitEmbeds(body.embeds);
  if (body.components) out.components = fitComponents(body.components);
  if (body.choices) out.choices = fitChoices(body.choices);
  return out as T;
}
