import type { ChatInputCommandInteraction } from 'discord.js';
import { slotOfFlag } from '../../flags/store/types.js';
import { customIdPart } from '../preconditions.js';
import type { Invocation } from '../types.js';

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
