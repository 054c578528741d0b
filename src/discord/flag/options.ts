import type {
  ChatInputCommandInteraction,
  SlashCommandStringOption,
  SlashCommandSubcommandBuilder,
} from 'discord.js';
import { MAX_REASON_LENGTH } from '../../config/validate.js';
import { slotOfFlag } from '../../flags/types.js';
import { customIdPart } from '../preconditions.js';
import type { Invocation, Requirement } from '../types.js';

/** A flag name as typed, as flags are named: trimmed, lower case. */
export const normalName = (typed: string): string => typed.trim().toLowerCase();

/** The `name` option of a /flag subcommand. */
export const nameOf = (i: ChatInputCommandInteraction): string =>
  normalName(i.options.getString('name', true));

/** The `reason` option, when given. */
export const reasonOf = (i: ChatInputCommandInteraction): string | undefined =>
  i.options.getString('reason') ?? undefined;

/**
 * What a /flag attempt concerns, for the audit row of a refusal: `flag:<name>` from the `name`
 * option of a command, or from the third part of a button's id (`flag:turn-on:<name>:<version>`);
 * `flag:*` when it names none (list).
 */
export function flagAttempt(i: Invocation): { key: string } {
  const typed = i.isChatInputCommand() ? i.options.getString('name') : customIdPart(i, 2);
  return { key: slotOfFlag(typed ? normalName(typed) : '*') };
}

/** What every subcommand that changes one flag requires (declared by each as its `requires`). */
export const FLAG_EDIT = {
  access: 'write',
  audit: 'set',
  defer: true,
  rateLimited: true,
  attempt: flagAttempt,
} as const satisfies Requirement;

// Options the /flag subcommands share, so each says the same thing the same way.

export const nameOption = (o: SlashCommandStringOption) =>
  o.setName('name').setDescription('The flag').setRequired(true).setMaxLength(64).setAutocomplete(true);

export const reasonOption = (o: SlashCommandStringOption) =>
  o.setName('reason').setDescription('Why (kept in the history)').setMaxLength(MAX_REASON_LENGTH);

export const envOption = (what: string) => (o: SlashCommandStringOption) =>
  o.setName('env').setDescription(what).setMaxLength(32).setAutocomplete(true);

/** One of the flag's variants (required; autocompleted from the flag named). */
export const variantOption = (o: SlashCommandStringOption) =>
  o.setName('variant').setDescription('The variant').setRequired(true).setMaxLength(64).setAutocomplete(true);

export const addOrRemove = (o: SlashCommandStringOption) =>
  o
    .setName('action')
    .setDescription('add (default) or remove')
    .addChoices({ name: 'add', value: 'add' }, { name: 'remove', value: 'remove' });

/** A subcommand acting on one flag: `name` first, `reason` last (required options come first). */
export const onFlag = (s: SlashCommandSubcommandBuilder, name: string, description: string) =>
  s.setName(name).setDescription(description).addStringOption(nameOption);
