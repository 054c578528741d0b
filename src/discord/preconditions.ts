import type { ChatInputCommandInteraction } from 'discord.js';
import { actorOf, contextOf } from './access.js';
import { REPLY_DEFAULTS } from './reply.js';
import type { CommandContext, Condition, Invocation, Requirement } from './types.js';

// What a subcommand requires is declared next to its command (see Requirement in types.ts);
// this is where it is enforced, by the dispatcher alone.

/** Runs the checks a requirement declares; throws the UserError the dispatcher turns into a reply. */
export async function enforce(req: Requirement, interaction: Invocation, ctx: CommandContext): Promise<void> {
  const named = req.attempt?.(interaction, ctx);
  // Nothing left to change (a confirmation already used or expired): the server must still be
  // allowed, and the handler says the confirmation is gone.
  if (named === null) {
    if (req.selfService && ctx.access.ownScope(interaction)) return;
    return ctx.access.check(interaction, 'read', { key: '*', action: req.audit });
  }
  const attempt = { key: named?.key ?? settingOf(interaction), action: named?.action ?? req.audit };
  if (req.selfService && ctx.access.ownScope(interaction)) {
    const scope =
      named?.scope ?? (interaction.isChatInputCommand() ? interaction.options.getString('scope') : null);
    ctx.access.checkSelfService(interaction, { ...attempt, scope }, isSelfService(ctx, attempt.key));
    // Every self-service attempt is audited with where it came from; writes audit themselves.
    if (req.access === 'read')
      await ctx.config.audit.record({
        key: attempt.key.slice(0, 64),
        scope: ctx.access.ownScope(interaction) ?? undefined,
        action: attempt.action,
        status: 'success',
        actor: actorOf(interaction),
        ...contextOf(interaction),
      });
  } else ctx.access.check(interaction, req.access, attempt);
  if (holds(req.defer, interaction)) {
    if (interaction.isButton() && !req.privateAnswer) await interaction.deferUpdate();
    else await interaction.deferReply({ flags: REPLY_DEFAULTS.flags });
  }
  if (holds(req.rateLimited, interaction)) await ctx.limits.checkAttempt(interaction.user.id, attempt);
}

const holds = (c: Condition | undefined, interaction: Invocation): boolean =>
  typeof c === 'function' ? c(interaction) : Boolean(c);

function isSelfService(ctx: CommandContext, key: string): boolean {
  try {
    const def = ctx.config.definition(key);
    return Boolean(def.guildSelfService && def.scopes.includes('guild'));
  } catch {
    return false;
  }
}

/** The subcommand as `requires` names it: `set`, `token create` (in a group), '' for none. */
export function subcommandOf(interaction: ChatInputCommandInteraction): string {
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
