import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { formatDuration } from '../../config/kinds.js';
import { present } from '../../config/present.js';
import type { RegisteredKey } from '../../config/registry.js';
import type { ScheduleDoc } from '../../config/schedules.js';
import type { ConfigService } from '../../config/service.js';
import { actorOf, contextOf } from '../access.js';
import { editReply } from '../reply.js';
import { COLOR, safe, truncate, when } from '../render.js';
import type { CommandContext } from '../types.js';

/** Cancel buttons fit in four rows of five (Discord allows five rows; one is kept spare). */
const MAX_SHOWN = 20;

/** What a pending change will do, in one line of Discord markdown (what users typed is escaped). */
export function describePending(config: ConfigService, doc: ScheduleDoc): string {
  let def: RegisteredKey;
  try {
    def = config.definition(doc.key);
  } catch {
    // A key no longer declared: still listed (and cancellable), its value shown as stored.
    return safe(
      `${doc.key} at ${doc.scope}: ${doc.kind} at ${doc.runAt.toISOString()} (this key is no longer declared)`,
      500,
    );
  }
  const head = safe(`${doc.key}${doc.scope === 'global' ? '' : ` at ${doc.scope}`}`, 200);
  const value = (v: unknown) => safe(present(def, v), 300);
  if (doc.kind === 'expire')
    return `${head}: temporary until ${when(doc.runAt)}, then ${doc.unset ? 'inherits again' : value(doc.value)}`;
  const then = doc.thenForMs !== undefined ? `, for ${formatDuration(doc.thenForMs)}` : '';
  return `${head}: becomes ${value(doc.value)} at ${when(doc.runAt)}${then} (scheduled by ${safe(doc.createdBy.tag, 100)})`;
}

/** /config pending: every scheduled change and temporary value, newest first, each with Cancel. */
export async function pending(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  await editReply(i, await pendingPage(ctx));
}

async function pendingPage(ctx: CommandContext) {
  const docs = (await ctx.config.timed.pending()).sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime(),
  );
  const shown = docs.slice(0, MAX_SHOWN);
  const embed = new EmbedBuilder().setColor(COLOR.info).setTitle('Pending changes');
  if (!shown.length) embed.setDescription('Nothing is scheduled, and no temporary value is waiting to end.');
  embed.addFields(
    shown.map((d, n) => ({
      name: truncate(
        `${n + 1} · ${d.kind === 'expire' ? 'temporary value' : 'scheduled change'} · ${d._id}`,
        256,
      ),
      value: truncate(describePending(ctx.config, d), 1024),
    })),
  );
  if (docs.length > shown.length)
    embed.setFooter({ text: `${docs.length - shown.length} more not shown: the newest ${MAX_SHOWN} are.` });
  const rows: ActionRowBuilder<ButtonBuilder>[] = [];
  for (let n = 0; n < shown.length; n += 5) {
    rows.push(
      new ActionRowBuilder<ButtonBuilder>().addComponents(
        shown.slice(n, n + 5).map((d, k) =>
          new ButtonBuilder()
            .setCustomId(`config:unsched:${d._id}`)
            .setLabel(`Cancel ${n + k + 1}`)
            .setStyle(ButtonStyle.Danger),
        ),
      ),
    );
  }
  return { embeds: [embed], components: rows };
}

/** A Cancel of /config pending: the change is dropped (audited) and the list shown again. */
export async function cancelPendingButton(
  i: ButtonInteraction,
  ctx: CommandContext,
  id: string,
): Promise<void> {
  await ctx.config.timed.cancel(id, actorOf(i), contextOf(i));
  await editReply(i, await pendingPage(ctx));
}
