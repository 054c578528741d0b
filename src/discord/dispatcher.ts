import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AutocompleteInteraction,
  type BaseInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { isUserError, type UserError } from '../base/errors.js';
import { ApprovalRequired } from '../approvals/gate.js';
import type { AuditAction } from '../storage/config-models.js';
import { errorDetail, logger } from '../base/logger.js';
import { actorOf, contextOf } from './access.js';
import { enforce, subcommandOf, type AfterAnswer } from './preconditions.js';
import { errorText } from './next-step.js';
import { errorEmbed, internalErrorEmbed } from './render.js';
import { approvalNeededEmbed } from './requests/render.js';
import { choices, respond } from './reply.js';
import type { Command, CommandContext, Requirement, Requirements } from './types.js';

type Repliable = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

/**
 * Past this, the dispatcher answers an autocomplete with no choices itself: Discord drops choices
 * that come after 3 s, and a handler waiting on the database must not leave the user with
 * "Loading options failed".
 */
export const AUTOCOMPLETE_DEADLINE_MS = 2000;

/**
 * The one place interactions are routed and errors become replies. Returns a handler for the
 * client's interactionCreate event; it never throws.
 */
export function createInteractionHandler(
  commands: ReadonlyMap<string, Command>,
  ctx: CommandContext,
): (interaction: BaseInteraction) => Promise<void> {
  return async (interaction) => {
    let afterAnswer: AfterAnswer | undefined;
    try {
      if (interaction.isChatInputCommand()) {
        const command = commands.get(interaction.commandName);
        if (!command) throw new Undeclared(`No handler for /${interaction.commandName}`);
        const sub = subcommandOf(interaction);
        afterAnswer = await enforce(required(command.requires, sub, describe(interaction)), interaction, ctx);
        await command.execute(interaction, ctx);
      } else if (interaction.isAutocomplete()) {
        await complete(commands.get(interaction.commandName), interaction, ctx);
      } else if (interaction.isButton()) {
        const [name = '', kind = ''] = interaction.customId.split(':');
        const command = commands.get(name);
        if (!command?.button) throw new Undeclared(`No handler for button ${interaction.customId}`);
        const req = required(command.buttonRequires ?? {}, kind, describe(interaction));
        afterAnswer = await enforce(req, interaction, ctx);
        await command.button(interaction, ctx);
      } else if (interaction.isModalSubmit()) {
        const [name = '', kind = ''] = interaction.customId.split(':');
        const command = commands.get(name);
        if (!command?.modal) throw new Undeclared(`No handler for modal ${interaction.customId}`);
        const req = required(command.modalRequires ?? {}, kind, describe(interaction));
        afterAnswer = await enforce(req, interaction, ctx);
        await command.modal(interaction, ctx);
      }
    } catch (err) {
      if (interaction.isChatInputCommand() || interaction.isButton() || interaction.isModalSubmit())
        await replyWithError(interaction, err, ctx);
      else logger.error('Interaction handler failed', { type: interaction.type, ...errorDetail(err) });
    }
    await afterAnswer?.();
  };
}

/**
 * Suggestions, for users who may run the subcommand: members of an allowed server, and an
 * Administrator of another server for a self-service subcommand (the handler then offers only
 * what that server may change). Refused users get none; the command explains when run. Handlers
 * answer from memory (suggestions.ts); whatever one does, the user gets an answer in time.
 */
async function complete(
  command: Command | undefined,
  interaction: AutocompleteInteraction,
  ctx: CommandContext,
): Promise<void> {
  const run =
    command?.autocomplete && mayComplete(command, interaction, ctx)
      ? command.autocomplete(interaction, ctx)
      : Promise.resolve();
  let failure: unknown;
  const done = run.then(
    () => true,
    (err: unknown) => {
      failure = err;
      return true;
    },
  );
  const inTime = await Promise.race([done, sleep(AUTOCOMPLETE_DEADLINE_MS, false, { ref: false })]);
  if (!inTime)
    logger.warn(
      `Autocomplete of /${interaction.commandName} took over ${AUTOCOMPLETE_DEADLINE_MS} ms: answered with no choices`,
    );
  // Sends nothing when the handler answered; the handler's own answer, if late, is then dropped.
  await choices(interaction, []);
  await done;
  if (failure !== undefined) throw failure;
}

function mayComplete(command: Command, interaction: AutocompleteInteraction, ctx: CommandContext): boolean {
  if (ctx.access.allows(interaction, 'read')) return true;
  const sub = subcommandOf(interaction);
  const req = Object.hasOwn(command.requires, sub) ? command.requires[sub] : undefined;
  return Boolean(req?.selfService) && ctx.access.selfServiceAdmin(interaction);
}

/**
 * A subcommand, button or modal that declares no requirement, or a custom id no command routes:
 * a bug, or an id that did not come from this bot's messages. Nothing runs, and the attempt is
 * audited as refused.
 */
class Undeclared extends Error {
  override name = 'Undeclared';
}

/** The declared requirement; an undeclared one is refused and nothing runs (fail closed). */
function required(table: Requirements, name: string, what: string): Requirement {
  if (!Object.hasOwn(table, name)) throw new Undeclared(`${what} declares no access requirement`);
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
      errorText(err),
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
  if (err instanceof Undeclared)
    await ctx.config.audit.record({
      key: '*',
      action: 'view',
      status: 'denied',
      actor: actorOf(interaction),
      error: err.message.slice(0, 200),
      ...contextOf(interaction),
    });
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
