import { EmbedBuilder, escapeMarkdown, type APIEmbedField } from 'discord.js';
import type { Actor, ConfigVersionDoc, VersionAction } from '../config/models.js';
import { formatDuration } from '../config/kinds.js';
import type { ConfigEntry, Preview, ScheduledChange, WriteSuccess } from '../config/types.js';
import { visible } from '../text.js';

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

export interface StatusInput {
  instanceId: string;
  uptimeMs: number;
  database: string;
  databaseState: string;
  /** Set when this process started without the database, from the last-known-good copy. */
  startedFrom?: string | undefined;
  /** Audit rows waiting for the database. */
  auditQueued: number;
  sync: string;
  cache: { hits: number; misses: number; hitRate: number; keys: number; lastRefresh: Date | undefined };
  /** What the process holds, counted apart: keys with a value, overrides, feature flags. */
  held?: { keys: number; overrides: number; flags: number };
  maintenance: boolean;
  pendingRestart: string[];
  /** Settings this process's environment overrides (`KEY (CONFIG_OVERRIDE_KEY)`). */
  envOverrides?: string[];
  /** Stored secrets this process cannot decrypt, each with why (served masked). */
  undecryptable?: { slot: string; reason: string }[];
  jobs: {
    name: string;
    cron: string;
    timezone: string;
    nextRun: Date | undefined;
    running: boolean;
    paused: boolean;
    lastRun: { startedAt: Date; status: string; summary?: string; error?: string } | undefined;
    ranElsewhere: number;
  }[];
  schedulerHere: boolean;
  /** Every process following the configuration, one line each (see processLines). */
  processes?: string[];
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h ${m}m` : h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

/** `8 keys, 1 override · 2 feature flags`: flags are not configuration keys. */
export function heldText(h: { keys: number; overrides: number; flags: number }): string {
  const n = (count: number, one: string) => `${count} ${one}${count === 1 ? '' : 's'}`;
  return `${n(h.keys, 'key')}, ${n(h.overrides, 'override')} · ${n(h.flags, 'feature flag')}`;
}

export function statusEmbed(s: StatusInput): EmbedBuilder {
  const embed = new EmbedBuilder()
    .setColor(s.maintenance || s.databaseState !== 'connected' ? COLOR.warn : COLOR.info)
    .setTitle('Bot status (this process)')
    .addFields(
      {
        name: 'Instance',
        value: `${code(s.instanceId)} · up ${duration(s.uptimeMs)}`,
        inline: false,
      },
      {
        name: 'Database',
        value: truncate(
          [
            `${safe(s.database, 200)} · ${s.databaseState}`,
            ...(s.startedFrom ? [s.startedFrom] : []),
            ...(s.auditQueued ? [`${s.auditQueued} audit rows waiting to be written`] : []),
          ].join('\n'),
          LIMITS.fieldValue,
        ),
        inline: true,
      },
      { name: 'Sync', value: safe(s.sync, 200), inline: true },
      {
        name: 'Cache',
        value: `${s.held ? heldText(s.held) : `${s.cache.keys} keys`} · ${s.cache.hits} hits / ${s.cache.misses} misses (${(s.cache.hitRate * 100).toFixed(2)}%) · refreshed ${when(s.cache.lastRefresh)}`,
        inline: false,
      },
      { name: 'Maintenance mode', value: s.maintenance ? 'ON: every job is paused' : 'off', inline: true },
      {
        name: 'Pending restart',
        value: s.pendingRestart.length ? s.pendingRestart.join(', ') : 'none',
        inline: true,
      },
    );
  if (s.envOverrides?.length)
    embed.addFields({
      name: 'Environment overrides (this process only)',
      value: truncate(
        `${safe(s.envOverrides.join(', '), 900)}: stored changes to these have no effect here until the variables are removed.`,
        LIMITS.fieldValue,
      ),
    });
  if (s.undecryptable?.length)
    embed.addFields({
      name: 'Secrets this process cannot decrypt',
      value: truncate(
        [
          ...s.undecryptable.map((u) => `${safe(u.slot.replace('|', ' at '), 100)}: ${safe(u.reason, 300)}`),
          'They are served masked and read as unset here; every other key keeps following. Add the key to CONFIG_ENCRYPTION_KEYS and restart this process.',
        ].join('\n'),
        LIMITS.fieldValue,
      ),
    });
  if (s.processes)
    embed.addFields({
      name: 'Processes following the configuration',
      value: truncate(s.processes.join('\n') || 'none has reported itself', LIMITS.fieldValue),
    });
  if (!s.schedulerHere) embed.addFields({ name: 'Jobs', value: 'No scheduler runs in this process.' });
  for (const j of s.jobs.slice(0, 15)) {
    const last = j.lastRun
      ? `${j.lastRun.status} ${when(j.lastRun.startedAt)}${j.lastRun.error ? `: ${safe(j.lastRun.error, 300)}` : j.lastRun.summary ? `: ${safe(j.lastRun.summary, 300)}` : ''}`
      : 'not run by this process yet';
    // Another process holding the lease is normal with several bot processes; say so, or an admin
    // reading one process's status would think the job never runs.
    const elsewhere = j.ranElsewhere
      ? `\nRun by another process: ${j.ranElsewhere} time${j.ranElsewhere === 1 ? '' : 's'} since this one started`
      : '';
    embed.addFields({
      name: truncate(
        `Job ${j.name}${j.running ? ' (running)' : ''}${j.paused ? ' (paused)' : ''}`,
        LIMITS.fieldName,
      ),
      value: truncate(
        `${code(j.cron, 100)} ${safe(j.timezone, 64)} · next ${when(j.nextRun)}\nLast: ${last}${elsewhere}`,
        LIMITS.fieldValue,
      ),
    });
  }
  return embed;
}
