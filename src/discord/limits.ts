import type {
  APIActionRowComponent,
  APIApplicationCommandOptionChoice,
  APIComponentInMessageActionRow,
  APIEmbed,
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

/** Length as Discord counts it: code points, leading and trailing whitespace excluded. */
export function discordLength(text: string): number {
  return codePoints(text.trim());
}

/** Unicode code points, as Discord's API counts characters. */
export function codePoints(text: string): number {
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

/** A component of a message, as far as limits are concerned. */
export interface ComponentLike {
  type?: number;
  custom_id?: string;
  label?: string;
  components?: ComponentLike[];
}
