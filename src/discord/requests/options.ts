import type { SlashCommandStringOption } from 'discord.js';
import { REQUEST_STATUSES } from '../../approvals/requests.js';
import type { AuditAction } from '../../storage/config-models.js';
import { customIdPart } from '../preconditions.js';
import type { Invocation } from '../types.js';

// What the subcommands, buttons and forms of change requests share (`/config requests` and
// `/config request approve|reject|withdraw|view|edit`); the steps themselves are checked and
// audited by ChangeRequests.

/** The statuses `/config requests status:` offers. */
export const STATUS_CHOICES = REQUEST_STATUSES.map((s) => ({ name: s, value: s }));

export const idOption = (o: SlashCommandStringOption) =>
  o
    .setName('id')
    .setDescription('The change request, like CR-7KQ2M')
    .setRequired(true)
    .setMaxLength(20)
    .setAutocomplete(true);

/** What a request command, button or modal concerns, for the audit row of a refusal: `request:<id>`. */
export function requestAttempt(action: AuditAction) {
  return (i: Invocation): { key: string; action: AuditAction } => {
    const id = i.isChatInputCommand() ? (i.options.getString('id') ?? '') : customIdPart(i, 2);
    return { key: `request:${id.trim().toUpperCase()}`.slice(0, 64), action };
  };
}
