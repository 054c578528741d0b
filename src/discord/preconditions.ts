import type { ChatInputCommandInteraction } from 'discord.js';
import type { RegisteredKey } from '../config/registry.js';
import { actorOf, contextOf } from './access.js';
import { FIRST_RESPONSE_READ_MS } from './budget.js';
import { firstResponse, REPLY_DEFAULTS } from './reply.js';
import type { CommandContext, Condition, Invocation, Requirement } from './types.js';

// What a subcommand, button or modal requires is declared in its subcommand's file (see
// Requirement in types.ts); this is where it is enforced, by the dispatcher alone.

/** Work left for once the interaction is answered (an audit row), so it never delays the answer. */
export type AfterAnswer = () => Promise<void>;

/**
 * Runs the checks a requirement declares; throws the UserError the dispatcher turns into a reply.
 * Nothing here waits on the database before the interaction is acknowledged: access is checked
 * from memory, the rate limit comes after the deferral (or gets FIRST_RESPONSE_READ_MS when the
 * handler answers first itself), and what is left for after the answer is returned: the audit row
 * of a self-service read, the settling of the change a rate-limited attempt reserved.
 */
export async function enforce(
  req: Requirement,
  interaction: Invocation,
  ctx: CommandContext,
): Promise<AfterAnswer | undefined> {
  const named = req.attempt?.(interaction, ctx);
  // Nothing left to change (a confirmation already used or expired): the server must still be
  // allowed, and the handler says the confirmation is gone.
  if (named === null) {
    if (req.selfService && ctx.access.ownScope(interaction)) return undefined;
    ctx.access.check(interaction, 'read', { key: '*', action: req.audit });
    return undefined;
  }
  const attempt = { key: named?.key ?? settingOf(interaction), action: named?.action ?? req.audit };
  let afterAnswer: AfterAnswer | undefined;
  if (req.selfService && ctx.access.ownScope(interaction)) {
    const scope =
      named?.scope ?? (interaction.isChatInputCommand() ? interaction.options.getString('scope') : null);
    const allowed =
      req.selfService === 'any'
        ? ctx.config.keys().some((k) => isSelfService(ctx, k))
        : isSelfService(ctx, attempt.key);
    ctx.access.checkSelfService(interaction, { ...attempt, scope }, allowed);
    // Every self-service attempt is audited with where it came from; writes audit themselves.
    if (req.access === 'read')
      afterAnswer = () =>
        ctx.config.audit.record({
          key: attempt.key.slice(0, 64),
          scope: ctx.access.ownScope(interaction) ?? undefined,
          action: attempt.action,
          status: 'success',
          actor: actorOf(interaction),
          ...contextOf(interaction),
        });
  } else ctx.access.check(interaction, req.access, attempt);
  if (holds(req.defer, interaction)) {
    if (interaction.isButton() && !req.privateAnswer)
      await firstResponse(interaction, () => interaction.deferUpdate(), 'deferred');
    else
      await firstResponse(
        interaction,
        () => interaction.deferReply({ flags: REPLY_DEFAULTS.flags }),
        'deferred',
        true,
      );
  }
  if (holds(req.rateLimited, interaction)) {
    const acknowledged = interaction.deferred || interaction.replied;
    const ticket = await ctx.limits.checkAttempt(
      interaction.user.id,
      attempt,
      acknowledged ? undefined : FIRST_RESPONSE_READ_MS,
    );
    // The change the attempt reserved is given back once answered, unless the handler made it.
    const audit = afterAnswer;
    afterAnswer = async () => {
      await ticket.settle();
      await audit?.();
    };
  }
  return afterAnswer;
}

const holds = (c: Condition | undefined, interaction: Invocation): boolean =>
  typeof c === 'function' ? c(interaction) : Boolean(c);

/** Whether a server outside the allowlist may manage `def` for itself (guild self-service). */
export function selfServiceKey(def: Pick<RegisteredKey, 'guildSelfService' | 'scopes'>): boolean {
  return Boolean(def.guildSelfService && def.scopes.includes('guild'));
}

function isSelfService(ctx: CommandContext, key: string): boolean {
  try {
    return selfServiceKey(ctx.config.definition(key));
  } catch {
    return false;
  }
}

/** What a command or autocomplete interaction says of its subcommand. */
interface WithSubcommand {
  options: Pick<ChatInputCommandInteraction['options'], 'getSubcommand' | 'getSubcommandGroup'>;
}

/** The subcommand as `requires` names it: `set`, `token create` (in a group), '' for none. */
export function subcommandOf(interaction: WithSubcommand): string {
  const group = interaction.options.getSubcommandGroup(false);
  const sub = interaction.options.getSubcommand(false) ?? '';
  return group ? `${group} ${sub}` : sub;
}

/** Part `n` of a button's or a modal's custom id (`command:kind:a:b`), or '' for anything else. */
export function customIdPart(interaction: Invocation, n: number): string {
  return interaction.isButton() || interaction.isModalSubmit()
    ? (interaction.customId.split(':')[n] ?? '')
    : '';
}

function settingOf(interaction: Invocation): string {
  if (!interaction.isChatInputCommand()) return '*';
  return interaction.options.getString('setting') ?? '*';
}
