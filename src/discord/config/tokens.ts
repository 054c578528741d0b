import {
  EmbedBuilder,
  type ApplicationCommandOptionChoiceData,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { isExpired, tokenTtl, type ApiToken, type TokenAccess } from '../../api/tokens.js';
import type { AuditAction } from '../../config/models.js';
import { isUserError } from '../../errors.js';
import { actorOf, contextOf } from '../access.js';
import { choices, editReply } from '../reply.js';
import { COLOR, LIMITS, safe, when, who } from '../render.js';
import type { CommandContext, Invocation } from '../types.js';

// Admin access, the acknowledgement (every one of these reads or writes the database) and, for
// create and revoke, the attempt limit are enforced before these run: see `requires` in
// commands/config.ts.

/** What the audit log knows a token by: its name, never its text or hash. */
export const tokenKey = (name: string | null | undefined): string => `token:${name || '*'}`.slice(0, 64);

/** The attempt a /config token command stands for, for the audit row of a refusal. */
export function tokenAttempt(i: Invocation): { key: string } {
  return { key: tokenKey(i.isChatInputCommand() ? i.options.getString('name') : null) };
}

/** /config token create: the token is shown here once, and nowhere else ever. */
export async function tokenCreate(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = i.options.getString('name', true);
  const { token, record } = await audited(
    i,
    ctx,
    'token-create',
    name,
    () =>
      ctx.tokens.create(
        {
          name,
          access: i.options.getString('access', true) as TokenAccess,
          sensitive: i.options.getBoolean('sensitive') ?? false,
          scope: i.options.getString('scope'),
          ttlMs: tokenTtl(i.options.getString('expires')),
          actor: actorOf(i),
        },
        ctx.config.environments,
      ),
    (r) => described(r.record),
  );
  await ctx.limits.recordChange(i.user.id);
  const embed = new EmbedBuilder()
    .setColor(COLOR.ok)
    .setTitle(`Token ${safe(record.name, 100)} created`)
    .setDescription(
      `\`\`\`\n${token}\n\`\`\`\nShown this once only: copy it now. Send it to the HTTP API as ` +
        '`Authorization: Bearer <token>`; revoke it with `/config token revoke`.',
    )
    .addFields(summaryFields(record));
  await editReply(i, { embeds: [embed] });
}

/** /config token list: the active tokens, newest first, without anything secret. */
export async function tokenList(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const tokens = await audited(i, ctx, 'token-list', null, () => ctx.tokens.list());
  const shown = tokens.slice(0, LIMITS.fields);
  const embed = new EmbedBuilder().setColor(COLOR.info).setTitle('API tokens');
  if (!shown.length) embed.setDescription('No active API tokens. Create one with `/config token create`.');
  embed.addFields(
    shown.map((t) => ({
      name: safe(t.name, LIMITS.fieldName),
      value: [
        `${t.access} · ${scopeText(t)} · ${sensitiveText(t)}`,
        `Created ${when(t.createdAt)} by ${who(t.createdBy)}`,
        `Last used ${when(t.lastUsedAt)}`,
        ...(t.expiresAt ? [`${expiryText(t)}`] : []),
      ].join('\n'),
    })),
  );
  if (tokens.length > shown.length)
    embed.setFooter({
      text: `${tokens.length - shown.length} more not shown: the newest ${shown.length} are.`,
    });
  await editReply(i, { embeds: [embed] });
}

/** /config token revoke: the API refuses the token from its next request on. */
export async function tokenRevoke(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = i.options.getString('name', true);
  const record = await audited(
    i,
    ctx,
    'token-revoke',
    name,
    () => ctx.tokens.revoke(name, actorOf(i)),
    described,
  );
  await ctx.limits.recordChange(i.user.id);
  const embed = new EmbedBuilder()
    .setColor(COLOR.ok)
    .setTitle(`Token ${safe(record.name, 100)} revoked`)
    .setDescription('Requests with it are refused from now on. Its name is free for a new token.')
    .addFields(summaryFields(record));
  await editReply(i, { embeds: [embed] });
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

function summaryFields(t: ApiToken) {
  return [
    { name: 'Access', value: t.access, inline: true },
    { name: 'Scope', value: scopeText(t), inline: true },
    { name: 'Sensitive values', value: t.sensitive ? 'in clear' : 'masked', inline: true },
    { name: 'Expires', value: t.expiresAt ? expiryText(t) : 'never (until revoked)', inline: true },
  ];
}

const expiryText = (t: ApiToken) =>
  t.expiresAt && isExpired(t) ? `Expired ${when(t.expiresAt)}` : `Expires ${when(t.expiresAt)}`;

const scopeText = (t: ApiToken) => (t.scope ? safe(t.scope, 100) : 'every scope');
const sensitiveText = (t: ApiToken) =>
  t.sensitive ? 'sensitive values in clear' : 'sensitive values masked';

/** What the audit row records of a token: what it may do, never its text or hash. */
const described = (t: ApiToken) => ({
  id: t.id,
  access: t.access,
  sensitive: t.sensitive,
  scope: t.scope ?? 'global',
  ...(t.expiresAt ? { expiresAt: t.expiresAt.toISOString() } : {}),
});

/**
 * Runs a token operation and audits it under `token:<name>`: success, or failed with the reason
 * (the database being unreachable included, which is shown as such).
 */
async function audited<T>(
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
