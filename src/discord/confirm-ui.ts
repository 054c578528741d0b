import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type ButtonInteraction,
} from 'discord.js';
import { COLOR } from './render.js';
import { update } from './reply.js';

/** The Confirm (danger) and Cancel buttons every confirmation shows. */
export function confirmRow(confirmId: string, cancelId: string): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(confirmId).setLabel('Confirm').setStyle(ButtonStyle.Danger),
    new ButtonBuilder().setCustomId(cancelId).setLabel('Cancel').setStyle(ButtonStyle.Secondary),
  );
}

/** A Confirm or Cancel pressed after its confirmation expired or was used: says so, buttons gone. */
export async function answerExpired(
  i: ButtonInteraction,
  text = 'This confirmation expired or was already used; nothing was changed. Run the command again.',
): Promise<void> {
  await update(i, {
    embeds: [new EmbedBuilder().setColor(COLOR.muted).setTitle('Expired').setDescription(text)],
    components: [],
  });
}
