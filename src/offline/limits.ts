import type { APIEmbed } from 'discord-api-types/v10';
import {
  discordLength,
  embedSize,
  MESSAGE_LIMITS,
  type ComponentLike,
  type MessageBody,
} from '../discord/limits.js';

// What Discord refuses, checked as Discord checks it: the offline Discord answers a body over its
// limits with the 400 Discord would send. The bot's own side makes bodies fit (discord/fit.ts).

/** One thing Discord would refuse, where it is in the body, with Discord's error code. */
export interface LimitIssue {
  path: (string | number)[];
  code: string;
  message: string;
}

export const tooLong = (path: LimitIssue['path'], text: string, max: number): LimitIssue[] => {
  const n = discordLength(text);
  return n > max
    ? [{ path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length (this is ${n}).` }]
    : [];
};

export const required = (path: LimitIssue['path'], text: unknown): LimitIssue[] =>
  typeof text === 'string' && discordLength(text) > 0
    ? []
    : [{ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required (it is empty).' }];

export const tooMany = (path: LimitIssue['path'], list: readonly unknown[], max: number): LimitIssue[] =>
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
