import { SlashCommandSubcommandBuilder, time, type ChatInputCommandInteraction } from 'discord.js';
import { UserError } from '../../src/base/errors.js';
import { actorOf, contextOf } from '../../src/discord/access.js';
import { editReply } from '../../src/discord/reply.js';
import type { CommandContext, Requirement } from '../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('panel')
  .setDescription('A private link that logs you in to the web panel, once, within 5 minutes');

// An Administrator of a server outside the allowlist gets a link too when some key is self-service:
// the panel then confines every write to that server's own scope, as Discord does.
export const requires = {
  access: 'read',
  audit: 'panel-login',
  defer: true,
  selfService: 'any',
} as const satisfies Requirement;

/**
 * A one-time login link, answered privately. The panel gives the access this user has here:
 * admins may change what they may change in Discord, members may look. Audited.
 */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const panel = ctx.panel;
  if (!panel)
    throw new UserError(
      'UNAVAILABLE',
      'This bot serves no web panel: its HTTP_PORT is not set. Set it (and PANEL_URL when browsers reach the bot under another address), then restart the bot.',
      { key: '*' },
    );
  const ownScope = ctx.access.ownScope(i);
  const admin = ownScope !== null || ctx.access.isAdmin(i);
  const row = { key: '*', action: 'panel-login' as const, actor: actorOf(i), ...contextOf(i) };
  const link = await ctx.config.health.guard('panel login link', () =>
    panel.logins.createLink(
      { user: actorOf(i), guildId: i.guildId, access: admin ? 'write' : 'read', ownScope, via: 'link' },
      panel.url,
    ),
  );
  // A self-service attempt is audited by the dispatcher already (with the server's scope).
  if (!ownScope)
    await ctx.config.audit.record({ ...row, status: 'success', newValue: admin ? 'write' : 'read' });
  await editReply(i, {
    content:
      `Your login link to the web panel (${admin ? 'admin' : 'read only'}): ${link.url}\n` +
      `It logs in once, until ${time(link.expiresAt, 'T')}. It logs in as you: do not share it.`,
  });
}
