import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { UserError } from '../base/errors.js';
import type { Confirmation } from './confirmations.js';
import { customIdPart } from './preconditions.js';
import { COLOR } from './render.js';
import { editReply, firstResponse, update } from './reply.js';
import type { Buttons, CommandContext, Invocation, Requirement } from './types.js';

// The one Confirm/Cancel flow of every command: a subcommand shows what would change with the
// buttons `confirmation` gives it; the command's `confirm` and `cancel` buttons (declared once,
// with confirmationButtons) check who pressed and carry out what was asked.

/** What a subcommand asks to confirm; who asked and which command are taken from the interaction. */
export type Ask = Omit<Confirmation, 'command' | 'userId'>;

/**
 * Holds `ask` until its Confirm or Cancel is pressed, or until it expires (the prompt then says
 * so, and nothing is changed). Returns the Confirm and Cancel buttons to show with the prompt:
 * `<command>:confirm:<id>` and `<command>:cancel:<id>`.
 */
export function confirmation(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  ask: Ask,
): ActionRowBuilder<ButtonBuilder> {
  const command = i.commandName;
  const seconds = Math.round(ctx.confirmations.timeoutMs / 1000);
  const id = ctx.confirmations.create({ ...ask, command, userId: i.user.id }, async () => {
    await editReply(i, {
      embeds: [
        new EmbedBuilder()
          .setColor(COLOR.muted)
          .setTitle(`Expired: ${ask.what}`)
          .setDescription(`Not confirmed within ${seconds} seconds; nothing was changed.`),
      ],
      components: [],
    });
  });
  return confirmRow(`${command}:confirm:${id}`, `${command}:cancel:${id}`);
}

/**
 * The Confirm and Cancel buttons of a command. Whoever presses must be allowed to make the change
 * now, whatever they could when it was asked; `selfService`: a server outside the allowlist may
 * confirm its own changes of self-service keys.
 */
export function confirmationButtons(opts: { selfService?: boolean } = {}): Buttons {
  const requires: Requirement = {
    access: 'write',
    audit: 'set',
    attempt: pendingAttempt,
    ...(opts.selfService ? { selfService: true } : {}),
  };
  return {
    confirm: { requires, run: (i, ctx, [id = '']) => press(i, ctx, id, true) },
    cancel: { requires, run: (i, ctx, [id = '']) => press(i, ctx, id, false) },
  };
}

/** The change a Confirm or Cancel stands for; null once it expired or was used (nothing to authorise). */
function pendingAttempt(i: Invocation, ctx: CommandContext) {
  const pending = ctx.confirmations.peek(customIdPart(i, 2), customIdPart(i, 0));
  return pending ? pending.attempt : null;
}

async function press(i: ButtonInteraction, ctx: CommandContext, id: string, confirmed: boolean) {
  const command = customIdPart(i, 0);
  const pending = ctx.confirmations.peek(id, command);
  if (!pending) {
    await answerExpired(i);
    return;
  }
  if (pending.userId !== i.user.id)
    throw new UserError(
      'PERMISSION_DENIED',
      `Only the admin who asked for this ${pending.asked} can confirm or cancel it.`,
      { key: pending.attempt.key, action: pending.attempt.action },
      `confirmation of ${pending.userId} pressed by ${i.user.id}`,
    );
  ctx.confirmations.take(id, command);
  if (!confirmed) {
    await update(i, {
      embeds: [
        new EmbedBuilder()
          .setColor(COLOR.muted)
          .setTitle(`Cancelled: ${pending.what}`)
          .setDescription('Nothing was changed.'),
      ],
      components: [],
    });
    return;
  }
  await firstResponse(i, () => i.deferUpdate(), 'deferred');
  await pending.confirm(i);
}

/** The Confirm (danger) and Cancel buttons every confirmation shows. */
function confirmRow(confirmId: string, cancelId: string): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(confirmId).setLabel('Confirm').setStyle(ButtonStyle.Danger),
    new ButtonBuilder().setCustomId(cancelId).setLabel('Cancel').setStyle(ButtonStyle.Secondary),
  );
}

/** A Confirm or Cancel pressed after its confirmation expired or was used: says so, buttons gone. */
async function answerExpired(i: ButtonInteraction): Promise<void> {
  await update(i, {
    embeds: [
      new EmbedBuilder()
        .setColor(COLOR.muted)
        .setTitle('Expired')
        .setDescription(
          'This confirmation expired or was already used; nothing was changed. Run the command again.',
        ),
    ],
    components: [],
  });
}
