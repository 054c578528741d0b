import type {
  ApplicationCommandOptionChoiceData,
  AutocompleteInteraction,
  ChatInputCommandInteraction,
} from 'discord.js';
import { describeToken, isExpired, tokenAuditKey, type ApiToken } from '../../tokens/tokens.js';
import type { AuditAction } from '../../storage/config-models.js';
import { isUserError } from '../../base/errors.js';
import { actorOf, contextOf } from '../access.js';
import { choices } from '../reply.js';
import { safe, when } from '../render.js';
import type { CommandContext, Invocation } from '../types.js';

// What the /config token subcommands share: the audit key of a token, how a token is shown, and
// the audit of each operation.

/** What the audit log knows a token by: its name, never its text or hash. */
export const tokenKey = tokenAuditKey;

/** The attempt a /config token command stands for, for the audit row of a refusal. */
export function tokenAttempt(i: Invocation): { key: string } {
  return { key: tokenKey(i.isChatInputCommand() ? i.options.getString('name') : null) };
}

/** `name` of revoke: active token names; `scope` of create: global, each environment, this server. */
export async function tokenAutocomplete(i: AutocompleteInteraction, ctx: CommandContext): Promise<void> {
  // Token names are for admins only, like the commands themselves.
  if (!ctx.access.allows(i, 'write')) return choices(i, []);
  const focused = i.options.getFocused(true);
  const typed = String(focused.value).trim().toLowerCase();
  let offered: string[] = [];
  if (focused.name === 'name' && i.options.getSubcommand(false) === 'revoke')
    offered = await ctx.suggestions.get(
      'token names',
      async () => (await ctx.tokens.list()).map((t) => t.name),
      [],
    );
  else if (focused.name === 'scope')
    offered = [
      'global',
      ...ctx.config.environments.map((e) => `env:${e}`),
      ...(i.guildId ? [`guild:${i.guildId}`] : []),
    ];
  const found: ApplicationCommandOptionChoiceData[] = offered
    .filter((s) => s.toLowerCase().includes(typed))
    .slice(0, 25)
    .map((s) => ({ name: s, value: s }));
  await choices(i, found);
}

/** What a token may do, as fields. */
export function summaryFields(t: ApiToken) {
  return [
    { name: 'Access', value: t.access, inline: true },
    { name: 'Scope', value: scopeText(t), inline: true },
    { name: 'Sensitive values', value: t.sensitive ? 'in clear' : 'masked', inline: true },
    { name: 'Expires', value: t.expiresAt ? expiryText(t) : 'never (until revoked)', inline: true },
  ];
}

/** When a token expires, or expired. */
export const expiryText = (t: ApiToken) =>
  t.expiresAt && isExpired(t) ? `Expired ${when(t.expiresAt)}` : `Expires ${when(t.expiresAt)}`;

/** The scope a token is confined to. */
export const scopeText = (t: ApiToken) => (t.scope ? safe(t.scope, 100) : 'every scope');
/** Whether a token reads sensitive values in clear. */
export const sensitiveText = (t: ApiToken) =>
  t.sensitive ? 'sensitive values in clear' : 'sensitive values masked';

/** What the audit row records of a token: what it may do, never its text or hash. */
export const described = describeToken;

/**
 * Runs a token operation and audits it under `token:<name>`: success, or failed with the reason
 * (the database being unreachable included, which is shown as such).
 */
export async function audited<T>(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  action: AuditAction,
  name: string | null,
  op: () => Promise<T>,
  newValue?: (result: T) => unknown,
): Promise<T> {
  const row = { key: tokenKey(name), action, actor: actorOf(i), ...contextOf(i) };
  let result: T;
  try {
    result = await ctx.config.health.guard(`token ${action}`, op);
  } catch (err) {
    // The user's text for a refusal; never a driver's message (which may quote the query).
    const error = isUserError(err) ? err.message : 'internal error (logged)';
    await ctx.config.audit.record({ ...row, status: 'failed', error });
    throw err;
  }
  await ctx.config.audit.record({
    ...row,
    status: 'success',
    ...(newValue ? { newValue: newValue(result) } : {}),
  });
  return result;
}
