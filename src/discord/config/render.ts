import { EmbedBuilder, type APIEmbedField } from 'discord.js';
import type { ConfigVersionDoc, VersionAction } from '../../storage/config-models.js';
import { formatDuration } from '../../config/kinds.js';
import type { ConfigEntry, Preview, ScheduledChange, WriteSuccess } from '../../config/types.js';
import { COLOR, LIMITS, safe, truncate, when, who } from '../render.js';

// The embeds of /config: one setting, a write, a scheduled change, a preview, a history page, the list.

export function viewEmbed(e: ConfigEntry, pending: string[] = []): EmbedBuilder {
  const embed = new EmbedBuilder()
    .setColor(COLOR.info)
    .setTitle(e.scope === 'global' ? e.key : `${e.key} · ${e.scope}`)
    .setDescription(safe(e.description, LIMITS.description))
    .addFields(
      { name: 'Value', value: safe(e.display), inline: true },
      { name: 'Default', value: safe(e.defaultDisplay), inline: true },
      { name: 'Version', value: String(e.version), inline: true },
      { name: 'Type', value: safe(e.type), inline: false },
      { name: 'Last changed', value: `${when(e.updatedAt)} by ${who(e.updatedBy)}`, inline: false },
    )
    .setFooter({
      text: `Category: ${e.category}${e.requiresRestart ? ' · takes effect after a restart' : ''}`,
    });
  if (e.layers) {
    const lines = e.layers.map(
      (l) =>
        `${l.supplies ? '➜' : '·'} ${l.scope}${l.version ? ` v${l.version}` : ''}: ${l.display === undefined ? '(no override)' : safe(l.display, 150)}`,
    );
    embed.addFields({
      name: e.scope === 'global' ? 'Where the value comes from' : 'Layers',
      value: truncate(lines.join('\n'), LIMITS.fieldValue),
    });
  } else if (e.overrides && e.scope === 'global') {
    embed.addFields({ name: 'Overrides', value: `${e.overrides} (see /config view with scope:)` });
  }
  if (e.override)
    embed.addFields({
      name: 'Overridden in this process',
      value: safe(
        `The value comes from ${e.override.variable} in this bot process's environment. Stored changes (v${e.version}: ${e.override.storedDisplay}) have no effect here until that variable is removed.`,
      ),
    });
  if (pending.length)
    embed.addFields({ name: 'Pending', value: truncate(pending.join('\n'), LIMITS.fieldValue) });
  return embed;
}

const ACTION_TITLES = {
  set: 'Updated',
  rollback: 'Rolled back',
  reset: 'Reset',
  init: 'Initialised',
  unset: 'Removed the override of',
  expire: 'Temporary value expired:',
  scheduled: 'Scheduled change applied:',
  create: 'Created',
  archive: 'Archived',
  kill: 'Switched off',
  restore: 'Restored',
  import: 'Imported',
} as const satisfies Record<VersionAction, string>;

export function writeEmbed(
  r: WriteSuccess,
  show: (v: unknown) => string,
  requiresRestart: boolean,
): EmbedBuilder {
  const embed = new EmbedBuilder()
    .setColor(r.warnings.length ? COLOR.warn : COLOR.ok)
    .setTitle(`${ACTION_TITLES[r.action]} ${r.key}${r.scope === 'global' ? '' : ` at ${r.scope}`}`)
    .addFields(
      { name: 'Old value', value: safe(show(r.oldValue)), inline: true },
      { name: 'New value', value: safe(show(r.value)), inline: true },
      {
        name: 'Version',
        value: `${r.oldVersion} → ${r.version}${r.restoredFrom ? ` (restores v${r.restoredFrom})` : ''}`,
        inline: true,
      },
    );
  if (r.until)
    embed.addFields({
      name: 'Temporary',
      value: `Until ${when(r.until.at)}, then ${safe(r.until.then, 900)}. /config pending lists it, with Cancel.`,
    });
  if (r.warnings.length) embed.addFields({ name: '⚠️ Warning', value: safe(r.warnings.join('\n')) });
  if (requiresRestart)
    embed.addFields({ name: 'Restart needed', value: 'Stored now; takes effect after the bot restarts.' });
  return embed;
}

/** A change stored to happen later (`/config set ... at:`). */
export function scheduledEmbed(p: ScheduledChange): EmbedBuilder {
  const embed = new EmbedBuilder()
    .setColor(p.warnings.length ? COLOR.warn : COLOR.ok)
    .setTitle(`Scheduled ${p.key}${p.scope === 'global' ? '' : ` at ${p.scope}`}`)
    .addFields(
      { name: 'New value', value: safe(p.display), inline: true },
      {
        name: 'At',
        value: `${when(p.runAt)}${p.thenForMs !== undefined ? `, for ${formatDuration(p.thenForMs)}` : ''}`,
        inline: true,
      },
      { name: 'Id', value: `\`${p.id}\``, inline: true },
    )
    .setFooter({
      text: 'Checked again when it is due, and not applied if the setting changed here meanwhile. /config pending lists it, with Cancel.',
    });
  if (p.warnings.length) embed.addFields({ name: '⚠️ Warning', value: safe(p.warnings.join('\n')) });
  return embed;
}

export function previewEmbed(action: 'rollback' | 'reset', p: Preview, timeoutMs: number): EmbedBuilder {
  const at = p.scope === 'global' ? '' : ` at ${p.scope}`;
  const title =
    action === 'rollback'
      ? `Roll back ${p.key}${at} to version ${p.restoredFrom}?`
      : p.action === 'unset'
        ? `Remove the override of ${p.key}${at}? It then inherits.`
        : `Reset ${p.key} to its default?`;
  const embed = new EmbedBuilder()
    .setColor(COLOR.warn)
    .setTitle(title)
    .addFields(
      {
        name: 'Current value',
        value: `${safe(p.current, LIMITS.fieldValue - 24)} (v${p.currentVersion})`,
        inline: true,
      },
      { name: 'New value', value: safe(p.next), inline: true },
    )
    .setFooter({
      text: `Confirm within ${Math.round(timeoutMs / 1000)} seconds. Only you can press these buttons.`,
    });
  if (p.warnings.length) embed.addFields({ name: '⚠️ Warning', value: safe(p.warnings.join('\n')) });
  return embed;
}

/**
 * One page of a key's history, newest first. Each row gets an equal share of what is left of
 * Discord's 6,000-character embed budget once the title and footer are counted, so a page full of
 * long reasons still fits.
 */
export function historyEmbed(
  key: string,
  rows: ConfigVersionDoc[],
  /** The first line of a version: its value, or (given the row) what it changed. */
  show: (v: unknown, row: ConfigVersionDoc) => string,
  footer?: string,
): EmbedBuilder {
  const title = `History of ${key}`;
  const embed = new EmbedBuilder().setColor(COLOR.info).setTitle(title);
  if (footer) embed.setFooter({ text: footer });
  if (rows.length === 0) return embed.setDescription('No versions.');
  const shown = rows.slice(0, LIMITS.fields);
  let left = LIMITS.embed - title.length - (footer?.length ?? 0) - 50;
  const fields = shown.map((v, i) => {
    const name = truncate(
      `v${v.version} · ${v.action}${v.restoredFrom ? ` of v${v.restoredFrom}` : ''}`,
      LIMITS.fieldName,
    );
    const share = Math.floor(left / (shown.length - i)) - name.length;
    const value = truncate(
      `${safe(show(v.value, v), 300)}\n${who(v.actor)} · ${when(v.createdAt)}${v.reason ? `\n“${safe(v.reason, 300)}”` : ''}`,
      Math.max(1, Math.min(LIMITS.fieldValue, share)),
    );
    left -= name.length + value.length;
    return { name, value };
  });
  return embed.addFields(fields);
}

/** Splits fields into pages that each fit one embed (25 fields, 6000 characters with the title). */
export function paginate(fields: APIEmbedField[], reserved = 300): APIEmbedField[][] {
  const pages: APIEmbedField[][] = [];
  let page: APIEmbedField[] = [];
  let size = 0;
  for (const f of fields) {
    const len = f.name.length + f.value.length;
    if (page.length && (page.length >= LIMITS.fields || size + len > LIMITS.embed - reserved)) {
      pages.push(page);
      page = [];
      size = 0;
    }
    page.push(f);
    size += len;
  }
  if (page.length) pages.push(page);
  return pages;
}

/** One field per key for /config list, grouped by category in the order given. */
export function listFields(entries: ConfigEntry[]): APIEmbedField[] {
  return entries.map((e) => ({
    name: truncate(
      `${e.category} · ${e.key}${e.isDefault ? '' : ' ✎'}${e.overrides ? ` (+${e.overrides} override${e.overrides === 1 ? '' : 's'})` : ''}`,
      LIMITS.fieldName,
    ),
    value: truncate(
      `${safe(e.display, 300)} · v${e.version}\n${safe(e.description, 400)}`,
      LIMITS.fieldValue,
    ),
  }));
}
