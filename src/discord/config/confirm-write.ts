import type { ButtonInteraction, ChatInputCommandInteraction } from 'discord.js';
import type { Preview, WriteSuccess } from '../../config/types.js';
import { confirmation } from '../confirm.js';
import { editReply } from '../reply.js';
import type { CommandContext } from '../types.js';
import { addImpact, impactFor } from './impact.js';
import { previewEmbed } from './render.js';
import { answerWrite } from './write.js';

/**
 * The confirmation step of a rollback or a reset: its preview with the impact, then on Confirm
 * the write, guarded by the version the preview was computed from (the service refuses, and
 * audits, a write of a key that moved meanwhile).
 */
export async function confirmWrite(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  action: 'rollback' | 'reset',
  preview: Preview,
  write: (
    b: ButtonInteraction,
    guard: { expectedVersion: number; scope: Preview['scope'] },
  ) => Promise<WriteSuccess>,
): Promise<void> {
  const embed = addImpact(
    previewEmbed(action, preview, ctx.confirmations.timeoutMs),
    await impactFor(ctx, preview),
  );
  const { key, scope } = preview;
  const buttons = confirmation(i, ctx, {
    what: `${action} of ${key}`,
    asked: action,
    attempt: { key, action, scope },
    async confirm(b) {
      const result = await write(b, { expectedVersion: preview.currentVersion, scope });
      await answerWrite(b, ctx, result, { components: [] });
    },
  });
  await editReply(i, { embeds: [embed], components: [buttons] });
}
