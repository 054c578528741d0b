import { EmbedBuilder } from 'discord.js';
import { fieldChanges, type FieldChange } from '../../config/field-changes.js';
import type { ConfigVersionDoc } from '../../storage/config-models.js';
import { present } from '../../config/present.js';
import type { RegisteredKey } from '../../config/registry.js';
import { GLOBAL, type Scope } from '../../config/scopes.js';
import { UserError } from '../../base/errors.js';
import { code, COLOR, LIMITS, truncate, when, who } from '../render.js';
import type { CommandContext } from '../types.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether both values are JSON objects of a JSON-object key, compared field by field. */
const comparesFields = (def: RegisteredKey, a: unknown, b: unknown): a is Record<string, unknown> =>
  def.type === 'JSON object' && !def.sensitive && isObject(a) && isObject(b);

const unset = (v: unknown) => v === null || v === undefined;

/** A JSON value in a line of text, kept short. */
const jsonText = (v: unknown, max: number) =>
  truncate(v === undefined ? 'undefined' : JSON.stringify(v), max);

/**
 * One line saying what a version changed from the one before it (about 200 characters at most),
 * for /config history: `10 → 25`, or for a JSON object `+a.b, -c, ~d: 1 → 2`. A sensitive value
 * is never shown: a change of one is only `changed`. Without a version before: the value.
 */
export function shortChange(
  def: RegisteredKey,
  before: ConfigVersionDoc | undefined,
  row: ConfigVersionDoc,
): string {
  if (!before) return present(def, row.value);
  if (def.sensitive && !unset(before.value) && !unset(row.value)) return 'changed';
  if (comparesFields(def, before.value, row.value)) {
    const changes = fieldChanges(before.value, row.value as Record<string, unknown>);
    if (!changes.length) return 'no change';
    // Added, removed, then changed, as in the full diff.
    const order = { added: 0, removed: 1, changed: 2 } as const;
    const parts = [...changes]
      .sort((x, y) => order[x.kind] - order[y.kind])
      .map((c) =>
        c.kind === 'added'
          ? `+${c.path}`
          : c.kind === 'removed'
            ? `-${c.path}`
            : `~${c.path}: ${jsonText(c.before, 24)} → ${jsonText(c.after, 24)}`,
      );
    const shown: string[] = [];
    for (const p of parts) {
      if ([...shown, p].join(', ').length > 180) break;
      shown.push(p);
    }
    const more = parts.length - shown.length;
    return `${shown.join(', ')}${more ? `, +${more} more` : ''}`;
  }
  return `${truncate(present(def, before.value), 90)} → ${truncate(present(def, row.value), 90)}`;
}

const where = (def: RegisteredKey, scope: Scope) => (scope === GLOBAL ? def.key : `${def.key} at ${scope}`);

/** The two versions asked for, checked: both exist, and `from` is the older. */
export async function versionsToCompare(
  ctx: CommandContext,
  def: RegisteredKey,
  scope: Scope,
  from: number | null,
  to: number | null,
): Promise<[ConfigVersionDoc, ConfigVersionDoc]> {
  if (from !== null && to !== null && from >= to)
    throw new UserError(
      'INVALID_VALUE',
      `from must be an earlier version than to; got from:${from} to:${to}. Give the older version as from.`,
      { key: def.key, scope, from, to },
    );
  const newest = (await ctx.config.history(def.key, { scope, limit: 1 }))[0];
  if (!newest)
    throw new UserError('VERSION_NOT_FOUND', `${where(def, scope)} has no versions yet.`, {
      key: def.key,
      scope,
    });
  const missing = (n: number) =>
    new UserError(
      'VERSION_NOT_FOUND',
      `${where(def, scope)} has no version ${n}. Its newest is version ${newest.version}.`,
      { key: def.key, scope, version: n },
    );
  const toRow = to === null ? newest : await versionOf(ctx, def, scope, to);
  if (!toRow) throw missing(to ?? 0);
  if (from === null) {
    const before = (await ctx.config.history(def.key, { scope, before: toRow.version, limit: 1 }))[0];
    if (!before)
      throw new UserError(
        'VERSION_NOT_FOUND',
        `${where(def, scope)} has no version before version ${toRow.version}: there is nothing to compare it with.`,
        { key: def.key, scope, version: toRow.version },
      );
    return [before, toRow];
  }
  if (from >= toRow.version)
    throw new UserError(
      'INVALID_VALUE',
      `from must be an earlier version than ${to === null ? `the newest (version ${toRow.version})` : `to`}; got from:${from}.`,
      { key: def.key, scope, from, to: toRow.version },
    );
  const fromRow = await versionOf(ctx, def, scope, from);
  if (!fromRow) throw missing(from);
  return [fromRow, toRow];
}

/** Version `n` of a key at a scope (its value masked when sensitive), or undefined. */
async function versionOf(
  ctx: CommandContext,
  def: RegisteredKey,
  scope: Scope,
  n: number,
): Promise<ConfigVersionDoc | undefined> {
  if (n < 1) return undefined;
  const [row] = await ctx.config.history(def.key, { scope, before: n + 1, limit: 1 });
  return row?.version === n ? row : undefined;
}

/** The embed of /config diff: the two versions, and what changed between them. */
export function diffEmbed(
  def: RegisteredKey,
  scope: Scope,
  from: ConfigVersionDoc,
  to: ConfigVersionDoc,
): EmbedBuilder {
  const title = `Diff of ${scope === GLOBAL ? def.key : `${def.key} · ${scope}`}: v${from.version} → v${to.version}`;
  const between = to.version - from.version - 1;
  const about = (v: ConfigVersionDoc) =>
    `v${v.version} · ${v.action} by ${who(v.actor)} · ${when(v.createdAt)}`;
  const embed = new EmbedBuilder()
    .setColor(COLOR.info)
    .setTitle(truncate(title, LIMITS.title))
    .setDescription(
      `${about(from)}\n${about(to)}${between > 0 ? `\n(${between} version${between === 1 ? '' : 's'} in between, compared as a whole)` : ''}`,
    );
  if (def.sensitive) {
    const both = !unset(from.value) && !unset(to.value);
    return embed.addFields({
      name: 'Value',
      value: both
        ? 'changed (a sensitive value is never shown)'
        : `${present(def, from.value)} → ${present(def, to.value)} (a sensitive value is never shown)`,
    });
  }
  if (comparesFields(def, from.value, to.value)) {
    const changes = fieldChanges(from.value, to.value as Record<string, unknown>);
    if (!changes.length)
      return embed.addFields({ name: 'No difference', value: 'Both versions hold the same value.' });
    const lines = (kind: FieldChange['kind']) => changes.filter((c) => c.kind === kind);
    const added = lines('added').map((c) => `+ ${code(c.path, 100)} = ${code(jsonText(c.after, 150), 160)}`);
    const removed = lines('removed').map(
      (c) => `- ${code(c.path, 100)} (was ${code(jsonText(c.before, 150), 160)})`,
    );
    const changed = lines('changed').map(
      (c) =>
        `~ ${code(c.path, 100)}: ${code(jsonText(c.before, 120), 130)} → ${code(jsonText(c.after, 120), 130)}`,
    );
    for (const [name, list] of [
      ['Added', added],
      ['Removed', removed],
      ['Changed', changed],
    ] as const)
      if (list.length) embed.addFields({ name: `${name} (${list.length})`, value: listText(list) });
    return embed;
  }
  const [a, b] = [present(def, from.value), present(def, to.value)];
  if (a === b) return embed.addFields({ name: 'No difference', value: 'Both versions hold the same value.' });
  return embed.addFields({ name: 'Change', value: `${code(a, 480)} → ${code(b, 480)}` });
}

/** Lines that fit one field, the rest counted: `… and 12 more`. */
function listText(lines: readonly string[]): string {
  const shown: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > LIMITS.fieldValue - 30) break;
    shown.push(line);
    size += line.length + 1;
  }
  const more = lines.length - shown.length;
  return `${shown.join('\n')}${more ? `\n… and ${more} more` : ''}`;
}
