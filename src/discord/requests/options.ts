import type {
  SlashCommandStringOption,
  SlashCommandSubcommandBuilder,
  SlashCommandSubcommandGroupBuilder,
} from 'discord.js';
import { MAX_VALUE_LENGTH } from '../../config/validate.js';
import { STATUS_CHOICES } from './commands.js';

// The slash command options of change requests, added to /config by commands/config.ts.

const idOption = (o: SlashCommandStringOption) =>
  o
    .setName('id')
    .setDescription('The change request, like CR-7KQ2M')
    .setRequired(true)
    .setMaxLength(20)
    .setAutocomplete(true);

/** `/config requests [status]`. */
export const requestsSubcommand = (s: SlashCommandSubcommandBuilder) =>
  s
    .setName('requests')
    .setDescription('Change requests waiting for approval, and earlier ones, newest first')
    .addStringOption((o) =>
      o
        .setName('status')
        .setDescription('Only requests in this state')
        .addChoices(...STATUS_CHOICES),
    );

/** `/config request approve|reject|withdraw|view|edit`. */
export const requestGroup = (g: SlashCommandSubcommandGroupBuilder) =>
  g
    .setName('request')
    .setDescription('One change request: approve, reject, withdraw, view or edit it')
    .addSubcommand((s) =>
      s
        .setName('view')
        .setDescription('Everything about a change request: changes, approvals, log')
        .addStringOption(idOption),
    )
    .addSubcommand((s) =>
      s
        .setName('approve')
        .setDescription("Approve another admin's change request (it applies at the quorum)")
        .addStringOption(idOption),
    )
    .addSubcommand((s) =>
      s
        .setName('reject')
        .setDescription('Reject a change request, saying why')
        .addStringOption(idOption)
        .addStringOption((o) =>
          o
            .setName('reason')
            .setDescription('Why (the requester sees it)')
            .setRequired(true)
            .setMaxLength(500),
        ),
    )
    .addSubcommand((s) =>
      s.setName('withdraw').setDescription('Take back a change request you made').addStringOption(idOption),
    )
    .addSubcommand((s) =>
      s
        .setName('edit')
        .setDescription('Propose another value in your change request (its approvals are cleared)')
        .addStringOption(idOption)
        .addStringOption((o) =>
          o.setName('value').setDescription('The new value').setRequired(true).setMaxLength(MAX_VALUE_LENGTH),
        ),
    );
