import type { SlashCommandStringOption } from 'discord.js';
import { MAX_REASON_LENGTH } from '../../config/validate.js';

// Options several /config subcommands share, so each says the same thing the same way.

export const settingOption = (o: SlashCommandStringOption) =>
  o.setName('setting').setDescription('Setting name').setRequired(true).setAutocomplete(true);

export const scopeOption = (o: SlashCommandStringOption) =>
  o
    .setName('scope')
    .setDescription('Where: global (default), env:<name> or guild:<server id>')
    .setMaxLength(40)
    .setAutocomplete(true);

export const snapshotNameOption = (o: SlashCommandStringOption) =>
  o.setName('name').setDescription('The snapshot').setRequired(true).setMaxLength(64).setAutocomplete(true);

export const reasonOption = (o: SlashCommandStringOption) =>
  o.setName('reason').setDescription('Why (kept in the history)').setMaxLength(MAX_REASON_LENGTH);
