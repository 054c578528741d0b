import type { ButtonInteraction } from 'discord.js';
import { isUserError } from '../../base/errors.js';
import { actorOf, contextOf } from '../access.js';
import { editReply, firstResponse, followUp } from '../reply.js';
import { errorEmbed } from '../render.js';
import type { CommandContext } from '../types.js';
import { summary, writeEmbed } from './render.js';

export const TURN_ON_REASON = 'turned back on after the automatic kill';

/**
 * The button of an automatic-kill alert (`flag:turn-on:<name>:<version>`, version = the kill's):
 * turns the flag back on unless it changed since the kill, and edits the alert to say who did
 * what, so the next admin reading the channel does not press it again.
 */
export async function turnOnButton(
  i: ButtonInteraction,
  ctx: CommandContext,
  name: string,
  version: number,
): Promise<void> {
  // The alert is a channel message, not an ephemeral prompt: acknowledge by updating it, answer
  // the presser privately.
  await firstResponse(i, () => i.deferUpdate(), 'deferred');
  const alert = i.message.content;
  try {
    const result = await ctx.flags.update(
      name,
      (f) => ({ ...f, enabled: true }),
      actorOf(i),
      TURN_ON_REASON,
      contextOf(i),
      { expectedVersion: version },
    );
    await ctx.limits.recordChange(i.user.id);
    await editReply(i, {
      content: `${alert}\n✅ Turned back on by <@${i.user.id}> (version ${result.oldVersion} → ${result.version}).`,
      components: [],
    });
    await followUp(i, { embeds: [writeEmbed('Turned back on', result)] });
  } catch (err) {
    if (!isUserError(err) || err.code !== 'CONFLICT') throw err;
    const now = ctx.flags.get(name);
    await editReply(i, {
      content: `${alert}\n↩️ Not turned back on: ${name} changed since the kill (now version ${now?.version ?? '?'}, ${now ? summary(now.flag) : 'unknown'}). /flag view name:${name} shows it.`,
      components: [],
    });
    await followUp(i, {
      embeds: [
        errorEmbed(
          `${name} changed since the automatic kill (v${version} → v${now?.version ?? '?'}); nothing was changed. /flag view name:${name} shows it now, /flag on name:${name} turns it on.`,
        ),
      ],
    });
  }
}
