import { EmbedBuilder } from 'discord.js';
import type { TrailState } from '../../audit/trail.js';
import { code, COLOR, LIMITS, safe, truncate, when } from '../render.js';

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
  /** The audit log's chain (absent when the database could not be read). */
  audit?: TrailState;
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

/** The chain's length, its newest checkpoint and the key that signs them (public half, to give verifiers). */
function auditText(a: TrailState): string {
  const checkpoint = a.latest?.signature
    ? `last signed checkpoint at row ${a.latest.seq}, ${when(a.latest.at)}`
    : 'no signed checkpoint yet';
  return [
    `${a.headSeq} rows in the hash chain${a.genesis ? '' : ' (not begun yet)'} · ${checkpoint}`,
    a.publicKey
      ? `Checkpoints signed by key ${code(a.publicKey.id)}; public key ${code(a.publicKey.text)}`
      : 'AUDIT_SIGNING_KEY is not set: no signed checkpoints (`npm run audit:verify -- --new-key` makes a key).',
    'Check it with `/config audit verify`.',
  ].join('\n');
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
  if (s.audit) embed.addFields({ name: 'Audit log', value: truncate(auditText(s.audit), LIMITS.fieldValue) });
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
