import type {
  ButtonInteraction,
  ChatInputCommandInteraction,
  EmbedBuilder,
  ModalSubmitInteraction,
} from 'discord.js';
import { present } from '../../config/present.js';
import { parseAt, parseFor } from '../../config/when.js';
import type { WriteSuccess } from '../../config/types.js';
import { actorOf, contextOf } from '../access.js';
import { editReply } from '../reply.js';
import { appliedLine } from './applied.js';
import { dryRunEmbed, impactFor } from './impact.js';
import { scheduledEmbed, writeEmbed } from './render.js';
import type { CommandContext } from '../types.js';

// The one set path of Discord (a typed value and the editor's alike), and the answer to any
// committed /config write. Access, the acknowledgement and the attempt limit are enforced before
// the subcommands run (their `requires`).

/** What a set asks for, typed as options or submitted from the editor. */
export interface SetRequest {
  setting: string;
  value: string;
  reason?: string;
  scope: string | null;
  forText?: string | null;
  atText?: string | null;
  /** From the editor: the version it opened at; the write is refused if the key moved since. */
  expectedVersion?: number;
  /** Show the impact preview and change nothing. */
  dryRun?: boolean;
}

/** The one set path of Discord, for typed values and those of the editor of /config set alike. */
export async function setValue(
  i: ChatInputCommandInteraction | ModalSubmitInteraction,
  ctx: CommandContext,
  r: SetRequest,
): Promise<void> {
  const { scope } = r;
  if (r.dryRun) {
    const preview = await ctx.config.previewSet(r.setting, r.value, actorOf(i), r.reason, contextOf(i), {
      scope,
    });
    await editReply(i, { embeds: [dryRunEmbed(await impactFor(ctx, preview))] });
    return;
  }
  const forMs = r.forText ? parseFor(r.forText) : undefined;
  const timing = forMs !== undefined ? { forMs } : {};
  if (r.atText) {
    const at = parseAt(r.atText, String(ctx.config.get('SCHEDULE_TIMEZONE')));
    const planned = await ctx.config.timed.schedule(
      r.setting,
      r.value,
      at,
      actorOf(i),
      r.reason,
      contextOf(i),
      { scope, ...timing },
    );
    await editReply(i, { embeds: [scheduledEmbed(planned)] });
    return;
  }
  const guard = r.expectedVersion !== undefined ? { expectedVersion: r.expectedVersion } : {};
  const result = await ctx.config.set(r.setting, r.value, actorOf(i), r.reason, contextOf(i), {
    scope,
    ...timing,
    ...guard,
  });
  await answerWrite(i, ctx, result);
}

/**
 * Answers a committed write, then edits the answer to say which live processes applied it (within
 * a few seconds; see appliedLine).
 */
export async function answerWrite(
  i: ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction,
  ctx: CommandContext,
  result: WriteSuccess,
  extra: { components?: [] } = {},
): Promise<void> {
  const embed = await resultEmbed(i, ctx, result);
  await editReply(i, { embeds: [embed], ...extra });
  const instances = ctx.runtime?.instances;
  if (!instances || result.seq === undefined) return;
  const line = await appliedLine(instances, result.seq, result.at ?? new Date());
  if (!line) return;
  await editReply(i, { embeds: [embed.addFields({ name: 'Processes', value: line })] });
}

/** The embed of a committed write, once the change is counted against the user's limit. */
async function resultEmbed(
  i: ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction,
  ctx: CommandContext,
  result: WriteSuccess,
): Promise<EmbedBuilder> {
  await ctx.limits.recordChange(i.user.id);
  const def = ctx.config.definition(result.key);
  return writeEmbed(result, (v) => present(def, v), def.requiresRestart);
}
