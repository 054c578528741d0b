import type {
  APIActionRowComponent,
  APIApplicationCommandOptionChoice,
  APIComponentInMessageActionRow,
  APIEmbed,
  APIEmbedField,
} from 'discord-api-types/v10';

/**
 * What Discord accepts in a message, an interaction response or an autocomplete result. Lengths
 * are counted as Discord's API counts them: in Unicode code points (its API is Python: "😀" is one
 * character, although JavaScript's `length` says 2), after trimming leading and trailing
 * whitespace.
 */
export const MESSAGE_LIMITS = {
  content: 2000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  /** Title, description, field names and values, footer text and author name of every embed. */
  embedsTotal: 6000,
  actionRows: 5,
  buttonsPerRow: 5,
  customId: 100,
  buttonLabel: 80,
  choices: 25,
  choiceName: 100,
  choiceValue: 100,
} as const;

/** What Discord accepts in a modal (interaction response type 9) and its text inputs. */
export const MODAL_LIMITS = {
  title: 45,
  customId: 100,
  /** Action rows (or labels), each holding one text input. */
  rows: 5,
  label: 45,
  description: 100,
  placeholder: 100,
  /** The most a text input holds, its value and min_length/max_length alike. */
  textLength: 4000,
} as const;

/** What Discord accepts as a slash command option value. */
export const OPTION_LIMITS = {
  /** Default and highest max_length of a string option. */
  stringLength: 6000,
  /** Integer and number options lie within -2^53..2^53. */
  largest: 2 ** 53,
} as const;

/** A message body in Discord's API JSON shape (what discord.js sends). */
export interface MessageBody {
  content?: string | null;
  embeds?: APIEmbed[] | null;
  components?: APIActionRowComponent<APIComponentInMessageActionRow>[] | null;
  /** An autocomplete result. */
  choices?: APIApplicationCommandOptionChoice[] | null;
  [other: string]: unknown;
}

/** One thing Discord would refuse, where it is in the body, with Discord's error code. */
export interface LimitIssue {
  path: (string | number)[];
  code: string;
  message: string;
}

/** Length as Discord counts it: code points, leading and trailing whitespace excluded. */
export function discordLength(text: string): number {
  return codePoints(text.trim());
}

function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // The low half of a surrogate pair belongs to the character its high half started.
    const low = c >= 0xdc00 && c <= 0xdfff;
    const prev = text.charCodeAt(i - 1);
    if (!(low && i > 0 && prev >= 0xd800 && prev <= 0xdbff)) n++;
  }
  return n;
}

const tooLong = (path: LimitIssue['path'], text: string, max: number): LimitIssue[] => {
  const n = discordLength(text);
  return n > max
    ? [{ path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length (this is ${n}).` }]
    : [];
};

const required = (path: LimitIssue['path'], text: unknown): LimitIssue[] =>
  typeof text === 'string' && discordLength(text) > 0
    ? []
    : [{ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required (it is empty).' }];

const tooMany = (path: LimitIssue['path'], list: readonly unknown[], max: number): LimitIssue[] =>
  list.length > max
    ? [
        {
          path,
          code: 'BASE_TYPE_MAX_LENGTH',
          message: `Must be ${max} or fewer in length (this has ${list.length}).`,
        },
      ]
    : [];

/** Every limit a body breaks, as Discord reports them in a 400 Invalid Form Body answer. */
export function messageIssues(body: MessageBody): LimitIssue[] {
  const issues: LimitIssue[] = [];
  if (typeof body.content === 'string')
    issues.push(...tooLong(['content'], body.content, MESSAGE_LIMITS.content));
  const embeds = body.embeds ?? [];
  issues.push(...tooMany(['embeds'], embeds, MESSAGE_LIMITS.embeds));
  embeds.forEach((e, i) => issues.push(...embedIssues(e, ['embeds', i])));
  const total = embeds.reduce((sum, e) => sum + embedSize(e), 0);
  if (total > MESSAGE_LIMITS.embedsTotal)
    issues.push({
      path: ['embeds'],
      code: 'MAX_EMBED_SIZE_EXCEEDED',
      message: `Embed size exceeds maximum size of ${MESSAGE_LIMITS.embedsTotal} (this is ${total}).`,
    });
  issues.push(...componentIssues(body.components ?? []));
  const choices = body.choices ?? [];
  issues.push(...tooMany(['choices'], choices, MESSAGE_LIMITS.choices));
  choices.forEach((c, i) => {
    issues.push(...required(['choices', i, 'name'], c.name));
    issues.push(...tooLong(['choices', i, 'name'], c.name ?? '', MESSAGE_LIMITS.choiceName));
    if (typeof c.value === 'string')
      issues.push(...tooLong(['choices', i, 'value'], c.value, MESSAGE_LIMITS.choiceValue));
  });
  return issues;
}

/** Every limit a body breaks, one readable line each (`embeds[0].fields[3].value: ...`). */
export function messageProblems(body: MessageBody): string[] {
  return messageIssues(body).map((i) => `${pathText(i.path)}: ${i.message}`);
}

export function pathText(path: LimitIssue['path']): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');
}

/** True when a message has nothing to show: Discord answers 50006 "Cannot send an empty message". */
export function isEmptyMessage(
  body: {
    content?: string | null;
    embeds?: readonly unknown[] | null;
    components?: readonly unknown[] | null;
  },
  attachments = 0,
): boolean {
  return (
    discordLength(body.content ?? '') === 0 &&
    (body.embeds ?? []).length === 0 &&
    (body.components ?? []).length === 0 &&
    attachments === 0
  );
}

function embedIssues(e: APIEmbed, at: LimitIssue['path']): LimitIssue[] {
  const out: LimitIssue[] = [];
  if (e.title !== undefined) out.push(...tooLong([...at, 'title'], e.title, MESSAGE_LIMITS.embedTitle));
  if (e.description !== undefined)
    out.push(...tooLong([...at, 'description'], e.description, MESSAGE_LIMITS.embedDescription));
  const fields = e.fields ?? [];
  out.push(...tooMany([...at, 'fields'], fields, MESSAGE_LIMITS.embedFields));
  fields.forEach((f, i) => {
    const p = [...at, 'fields', i];
    out.push(
      ...required([...p, 'name'], f.name),
      ...tooLong([...p, 'name'], f.name ?? '', MESSAGE_LIMITS.fieldName),
    );
    out.push(
      ...required([...p, 'value'], f.value),
      ...tooLong([...p, 'value'], f.value ?? '', MESSAGE_LIMITS.fieldValue),
    );
  });
  if (e.footer) {
    out.push(...required([...at, 'footer', 'text'], e.footer.text));
    out.push(...tooLong([...at, 'footer', 'text'], e.footer.text ?? '', MESSAGE_LIMITS.footerText));
  }
  if (e.author) {
    out.push(...required([...at, 'author', 'name'], e.author.name));
    out.push(...tooLong([...at, 'author', 'name'], e.author.name ?? '', MESSAGE_LIMITS.authorName));
  }
  return out;
}

/** The characters of an embed that count towards the 6000 of a message. */
export function embedSize(e: APIEmbed): number {
  const len = (s: string | undefined) => (typeof s === 'string' ? discordLength(s) : 0);
  return (
    len(e.title) +
    len(e.description) +
    len(e.footer?.text) +
    len(e.author?.name) +
    (e.fields ?? []).reduce((sum, f) => sum + len(f.name) + len(f.value), 0)
  );
}

interface ComponentLike {
  type?: number;
  custom_id?: string;
  label?: string;
  components?: ComponentLike[];
}

function componentIssues(rows: readonly ComponentLike[]): LimitIssue[] {
  const out: LimitIssue[] = [...tooMany(['components'], rows, MESSAGE_LIMITS.actionRows)];
  const seen = new Set<string>();
  rows.forEach((row, r) => {
    const items = row.components ?? [];
    if (items.length < 1 || items.length > MESSAGE_LIMITS.buttonsPerRow)
      out.push({
        path: ['components', r, 'components'],
        code: 'BASE_TYPE_BAD_LENGTH',
        message: `Must be between 1 and ${MESSAGE_LIMITS.buttonsPerRow} in length (this has ${items.length}).`,
      });
    items.forEach((c, i) => {
      const p = ['components', r, 'components', i];
      if (typeof c.label === 'string')
        out.push(...tooLong([...p, 'label'], c.label, MESSAGE_LIMITS.buttonLabel));
      if (typeof c.custom_id !== 'string') return;
      out.push(...tooLong([...p, 'custom_id'], c.custom_id, MESSAGE_LIMITS.customId));
      if (seen.has(c.custom_id))
        out.push({
          path: [...p, 'custom_id'],
          code: 'COMPONENT_CUSTOM_ID_DUPLICATED',
          message: `Component custom id cannot be duplicated (${c.custom_id}).`,
        });
      seen.add(c.custom_id);
    });
  });
  return out;
}

interface ModalPart {
  type?: number;
  custom_id?: unknown;
  label?: unknown;
  description?: unknown;
  style?: unknown;
  min_length?: unknown;
  max_length?: unknown;
  required?: unknown;
  value?: unknown;
  placeholder?: unknown;
  component?: ModalPart;
  components?: ModalPart[];
}

/**
 * Every limit a modal breaks, as Discord reports them: a title of 1-45, a custom id of 1-100,
 * 1-5 action rows each holding one text input (or labels holding one), text inputs with a
 * custom id, a label of 1-45, a paragraph or short style, lengths within 0-4000 and a value no
 * longer than their max_length.
 */
export function modalIssues(body: {
  title?: unknown;
  custom_id?: unknown;
  components?: unknown;
}): LimitIssue[] {
  const out: LimitIssue[] = [];
  const text = (path: LimitIssue['path'], v: unknown, max: number, needed: boolean) => {
    if (v === undefined && !needed) return;
    out.push(...required(path, v));
    if (typeof v === 'string') out.push(...tooLong(path, v, max));
  };
  text(['title'], body.title, MODAL_LIMITS.title, true);
  text(['custom_id'], body.custom_id, MODAL_LIMITS.customId, true);
  const rows = Array.isArray(body.components) ? (body.components as ModalPart[]) : [];
  if (rows.length < 1 || rows.length > MODAL_LIMITS.rows)
    out.push({
      path: ['components'],
      code: 'BASE_TYPE_BAD_LENGTH',
      message: `Must be between 1 and ${MODAL_LIMITS.rows} in length (this has ${rows.length}).`,
    });
  const seen = new Set<string>();
  rows.forEach((row, r) => {
    const at = ['components', r];
    let input: ModalPart | undefined;
    let inputAt: LimitIssue['path'] = at;
    if (row.type === 1) {
      const items = row.components ?? [];
      if (items.length !== 1 || items[0]?.type !== 4)
        out.push({
          path: [...at, 'components'],
          code: 'BASE_TYPE_BAD_LENGTH',
          message: `An action row of a modal holds exactly one text input (this has ${items.length} components).`,
        });
      input = items[0];
      inputAt = [...at, 'components', 0];
      if (input) text([...inputAt, 'label'], input.label, MODAL_LIMITS.label, true);
    } else if (row.type === 18) {
      text([...at, 'label'], row.label, MODAL_LIMITS.label, true);
      text([...at, 'description'], row.description, MODAL_LIMITS.description, false);
      input = row.component;
      inputAt = [...at, 'component'];
    } else {
      out.push({
        path: [...at, 'type'],
        code: 'UNION_TYPE_CHOICES',
        message: `Value of field "type" must be one of (1, 18) for this harness (this is ${String(row.type)}).`,
      });
    }
    if (!input || input.type !== 4) return;
    out.push(...textInputIssues(input, inputAt));
    if (typeof input.custom_id === 'string') {
      if (seen.has(input.custom_id))
        out.push({
          path: [...inputAt, 'custom_id'],
          code: 'COMPONENT_CUSTOM_ID_DUPLICATED',
          message: `Component custom id cannot be duplicated (${input.custom_id}).`,
        });
      seen.add(input.custom_id);
    }
  });
  return out;
}

function textInputIssues(input: ModalPart, at: LimitIssue['path']): LimitIssue[] {
  const out: LimitIssue[] = [...required([...at, 'custom_id'], input.custom_id)];
  if (typeof input.custom_id === 'string')
    out.push(...tooLong([...at, 'custom_id'], input.custom_id, MODAL_LIMITS.customId));
  if (input.style !== 1 && input.style !== 2)
    out.push({
      path: [...at, 'style'],
      code: 'BASE_TYPE_CHOICES',
      message: `Value must be one of (1, 2) (this is ${String(input.style)}).`,
    });
  const bound = (name: 'min_length' | 'max_length', least: number): number | undefined => {
    const v = input[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < least || v > MODAL_LIMITS.textLength) {
      out.push({
        path: [...at, name],
        code: 'NUMBER_TYPE_MAX',
        message: `Must be between ${least} and ${MODAL_LIMITS.textLength} (this is ${String(v)}).`,
      });
      return undefined;
    }
    return v;
  };
  const min = bound('min_length', 0);
  const max = bound('max_length', 1) ?? MODAL_LIMITS.textLength;
  if (min !== undefined && min > max)
    out.push({
      path: [...at, 'min_length'],
      code: 'BASE_TYPE_BAD_LENGTH',
      message: `min_length ${min} is more than max_length ${max}.`,
    });
  if (input.value !== undefined) {
    if (typeof input.value !== 'string')
      out.push({ path: [...at, 'value'], code: 'STRING_TYPE_CONVERT', message: 'Must be a string.' });
    else out.push(...tooLong([...at, 'value'], input.value, max));
  }
  if (typeof input.placeholder === 'string')
    out.push(...tooLong([...at, 'placeholder'], input.placeholder, MODAL_LIMITS.placeholder));
  if (input.required !== undefined && typeof input.required !== 'boolean')
    out.push({ path: [...at, 'required'], code: 'BOOLEAN_TYPE_CONVERT', message: 'Must be a boolean.' });
  return out;
}

// ---- making a body fit ----------------------------------------------------------------------

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
