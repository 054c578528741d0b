import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { processLines } from '../../src/discord/config/applied.js';
import { statusEmbed } from '../../src/discord/config/status.js';
import { when } from '../../src/discord/render.js';
import { editReply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('status')
  .setDescription('Jobs, cache, database and sync state of this bot process');

// The list of processes is read from the database.
export const requires = { access: 'read', audit: 'status', defer: true } as const satisfies Requirement;

/** Jobs, cache, database, sync and the processes following the configuration, as this process sees them. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const rt = ctx.runtime;
  const stats = ctx.config.stats();
  const sync = rt?.sync?.status();
  const processes = rt?.instances
    ? await rt.instances.list().then(
        (list) => processLines(list, rt.feed?.position ?? 0, rt.instanceId),
        () => ['(the list of processes cannot be read while the database is unavailable)'],
      )
    : undefined;
  const audit = await ctx.config.trail.state().catch(() => undefined);
  const embed = statusEmbed({
    ...(audit ? { audit } : {}),
    ...(processes ? { processes } : {}),
    instanceId: rt?.instanceId ?? 'unknown',
    uptimeMs: rt ? Date.now() - rt.startedAt.getTime() : 0,
    database: rt?.database ?? 'unknown',
    databaseState:
      stats.database === 'connected'
        ? 'connected'
        : `unavailable since ${when(stats.outageSince)}: reads are served from memory, writes are refused`,
    startedFrom:
      stats.startedFrom === 'database'
        ? undefined
        : `Started from the last-known-good copy written ${when(stats.copyWrittenAt)} (the database could not be reached)`,
    auditQueued: stats.auditQueued,
    sync: sync
      ? `${sync.mode}${sync.mode === 'polling' ? ` every ${sync.intervalMs} ms` : ''}${sync.failures ? ` · ${sync.failures} failures` : ''}`
      : 'off',
    cache: stats.cache,
    held: { ...ctx.config.heldCounts(), flags: ctx.flags.list({ archived: true }).length },
    maintenance: ctx.config.get('MAINTENANCE_MODE') === true,
    pendingRestart: ctx.config.pendingRestart(),
    envOverrides: stats.envOverrides.map((o) => `${o.key} (${o.variable})`),
    undecryptable: stats.undecryptable,
    jobs: rt?.scheduler?.status() ?? [],
    schedulerHere: Boolean(rt?.scheduler),
  });
  await editReply(i, { embeds: [embed] });
}
