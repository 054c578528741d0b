import { randomBytes } from 'node:crypto';
import {
  type BaseInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { isUserError, type UserError } from '../errors.js';
import { ApprovalRequired } from '../config/approval-gate.js';
import type { AuditAction } from '../config/models.js';
import { errorDetail, logger } from '../logger.js';
import { actorOf, contextOf } from './access.js';
import { enforce, subcommandOf } from './preconditions.js';
import { errorEmbed, internalErrorEmbed } from './render.js';
import { approvalNeededEmbed } from './requests/render.js';
import { choices, respond } from './reply.js';
import type { Command, CommandContext, Requirement, Requirements } from './types.js';

type Repliable = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

/**
 * The one place interactions are routed and errors become replies. Returns a handler for the
 * client's interactionCreate event; it never throws.
 */
export function createInteractionHandler(
  commands: ReadonlyMap<string, Command>,
  ctx: CommandContext,
): (interaction: BaseInteraction) => Promise<void> {
  return async (interaction) => {
    try {
      if (interaction.isChatInputCommand()) {
        const command = commands.get(interaction.commandName);
        if (!command) throw new Error(`No handler for /${interaction.commandName}`);
        const sub = subcommandOf(interaction);
        await enforce(required(command.requires, sub, describe(interaction)), interaction, ctx);
        await command.execute(interaction, ctx);
      } else if (interaction.isAutocomplete()) {
        const command = commands.get(interaction.commandName);
        // Refused users get no suggestions; the command itself explains the refusal when run.
        if (ctx.access.allows(interaction, 'read')) await command?.autocomplete?.(interaction, ctx);
        if (!interaction.responded) await choices(interaction, []);
      } else if (interaction.isButton()) {
        const [name = '', kind = ''] = interaction.customId.split(':');
        const command = commands.get(name);
        if (!command?.button) throw new Error(`No handler for button ${interaction.customId}`);
        await enforce(required(command.buttonRequires ?? {}, kind, describe(interaction)), interaction, ctx);
        await command.button(interaction, ctx);
      } else if (interaction.isModalSubmit()) {
        const [name = '', kind = ''] = interaction.customId.split(':');
        const command = commands.get(name);
        if (!command?.modal) throw new Error(`No handler for modal ${interaction.customId}`);
        await enforce(required(command.modalRequires ?? {}, kind, describe(interaction)), interaction, ctx);
        await command.modal(interaction, ctx);
      }
    } catch (err) {
      if (interaction.isChatInputCommand() || interaction.isButton() || interaction.isModalSubmit())
        await replyWithError(interaction, err, ctx);
      else logger.error('Interaction handler failed', { type: interaction.type, ...errorDetail(err) });
    }
  };
}

/** The declared requirement; an undeclared one is a bug, and nothing runs (fail closed). */
function required(table: Requirements, name: string, what: string): Requirement {
  if (!Object.hasOwn(table, name)) throw new Error(`${what} declares no access requirement`);
  return table[name] as Requirement;
}

async function replyWithError(interaction: Repliable, err: unknown, ctx: CommandContext): Promise<void> {
  let embed;
  if (err instanceof ApprovalRequired) {
    // Not a refusal: the change became a change request, which approvers now see.
    embed = approvalNeededEmbed(err.request, ctx.approvalChannelId);
    logger.info(`${describe(interaction)} became change request ${err.request.id}`, {
      user: interaction.user.id,
    });
  } else if (isUserError(err)) {
    embed = errorEmbed(
      err.message,
      err.code === 'PERMISSION_DENIED'
        ? 'Not allowed'
        : err.code === 'RATE_LIMITED'
          ? 'Slow down'
          : 'Not done',
    );
    logger.info(`Refused ${describe(interaction)}: ${err.code}`, {
      user: interaction.user.id,
      detail: err.detail,
    });
  } else {
    const errorId = randomBytes(4).toString('hex');
    logger.error(`Unexpected error ${errorId} in ${describe(interaction)}`, {
      user: interaction.user.id,
      ...errorDetail(err),
    });
    embed = internalErrorEmbed(errorId);
  }
  try {
    await respond(interaction, { embeds: [embed], components: [] });
  } catch (replyErr) {
    logger.error(`Could not send the error reply for ${describe(interaction)}`, errorDetail(replyErr));
  }
  // After the reply: an audit write must not delay the answer past Discord's 3 seconds.
  if (
    isUserError(err) &&
    (err.code === 'PERMISSION_DENIED' || err.code === 'RATE_LIMITED') &&
    err.context.audited !== true
  ) {
    await auditDenied(interaction, err, ctx);
  }
}

async function auditDenied(interaction: Repliable, err: UserError, ctx: CommandContext): Promise<void> {
  const key = typeof err.context.key === 'string' ? err.context.key : '*';
  const action = (typeof err.context.action === 'string' ? err.context.action : 'view') as AuditAction;
  await ctx.config.audit.record({
    key: key.slice(0, 64),
    action,
    status: 'denied',
    actor: actorOf(interaction),
    error: err.detail ?? err.message,
    ...contextOf(interaction),
  });
}

function describe(interaction: Repliable): string {
  if (interaction.isChatInputCommand()) {
    const sub = subcommandOf(interaction);
    return `/${interaction.commandName}${sub ? ` ${sub}` : ''}`;
  }
  return `${interaction.isButton() ? 'button' : 'modal'} ${interaction.customId}`;
}
