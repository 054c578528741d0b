import { EmbedBuilder, escapeMarkdown } from 'discord.js';
import type { Actor } from '../storage/config-models.js';
import { visible } from '../base/text.js';

export const COLOR = {
  ok: 0x2ecc71,
  warn: 0xf1c40f,
  error: 0xe74c3c,
  info: 0x5865f2,
  muted: 0x95a5a6,
} as const;

/** Discord's limits for one embed. */
export const LIMITS = {
  fields: 25,
  fieldValue: 1024,
  fieldName: 256,
  description: 4096,
  embed: 6000,
  title: 256,
} as const;

/**
 * Text from users or the database, made safe to show: markdown is escaped, and mentions and
 * timestamps are broken with a zero-width space so they render as typed (replies also set
 * allowed mentions to none, so nothing can ping).
 */
export function safe(text: string, max: number = LIMITS.fieldValue): string {
  const escaped = escapeMarkdown(visible(text), {
    inlineCode: true,
    codeBlock: true,
    maskedLink: true,
    heading: true,
    bulletedList: true,
    numberedList: true,
  })
    .replace(/@(everyone|here)/gi, '@\u200b$1')
    .replace(/<([@#:&!a-z])/gi, '<\u200b$1');
  return truncate(escaped, max);
}

/** Text shown as inline code: markdown does not apply there, so only backticks need neutralising. */
export function code(text: string, max = 200): string {
  return `\`${truncate(text.replace(/`/g, "'"), max)}\``;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

export const when = (d: Date | undefined): string =>
  d
    ? `<t:${Math.floor(new Date(d).getTime() / 1000)}:f> (<t:${Math.floor(new Date(d).getTime() / 1000)}:R>)`
    : 'never';

export function who(actor: Actor | undefined): string {
  if (!actor) return 'nobody';
  if (!/^\d{15,21}$/.test(actor.id)) return safe(actor.tag, 100);
  return `<@${actor.id}> (${safe(actor.tag, 100)})`;
}

/**
 * A refusal. Its message often repeats what the user typed (an unknown name, a refused value), so
 * it is escaped like any user text: it shows as typed and can neither format nor mention.
 */
export function errorEmbed(message: string, title = 'Not done'): EmbedBuilder {
  // Line breaks of the message itself are kept (a refused flag lists one problem per line); any
  // other hidden character still shows as its code point.
  const text = message
    .split('\n')
    .map((line) => safe(line, LIMITS.description))
    .join('\n');
  return new EmbedBuilder()
    .setColor(COLOR.error)
    .setTitle(title)
    .setDescription(truncate(text, LIMITS.description));
}

/** An unexpected failure: no detail, only an id to find it in the log. */
export function internalErrorEmbed(errorId: string): EmbedBuilder {
  return new EmbedBuilder()
    .setColor(COLOR.error)
    .setTitle('Error')
    .setDescription(
      `Something went wrong on our side. If it keeps happening, give this id to the bot's operators: ${code(errorId)}`,
    );
}
