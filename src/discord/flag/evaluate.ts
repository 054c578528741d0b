import { EmbedBuilder, type ChatInputCommandInteraction, type GuildMember } from 'discord.js';
import { UserError } from '../../errors.js';
import { ATTRIBUTE_NAME, type FlagContext } from '../../flags/model.js';
import { preview } from '../../text.js';
import { COLOR, code, safe, truncate } from '../render.js';
import { reply } from '../reply.js';
import type { CommandContext } from '../types.js';
import { nameOf, normalName } from './options.js';

/** `plan=pro, country=FR` → { plan: 'pro', country: 'FR' }; every malformed pair is named. */
export function parseAttributes(text: string | null): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!text) return out;
  const problems: string[] = [];
  for (const pair of text.split(',')) {
    if (!pair.trim()) continue;
    const at = pair.indexOf('=');
    const key = at < 0 ? '' : pair.slice(0, at).trim();
    if (!ATTRIBUTE_NAME.test(key)) problems.push(`${preview(pair.trim())} is not key=value with a valid key`);
    else if (Object.hasOwn(out, key)) problems.push(`${key} is given twice`);
    else out[key] = pair.slice(at + 1).trim();
  }
  if (problems.length)
    throw new UserError(
      'INVALID_VALUE',
      `attributes: ${problems.join('; ')}. Write them as key=value,key=value (plan=pro,app.version=2.1.0).`,
    );
  return out;
}

/** Role ids of a resolved member: a cached GuildMember, or raw API data (ids). @everyone left out. */
function rolesOf(member: GuildMember | { roles: string[] } | null, guildId: string | null): string[] {
  if (!member) return [];
  const ids = Array.isArray(member.roles) ? member.roles : [...member.roles.cache.keys()];
  return ids.filter((id) => id !== guildId);
}

/**
 * Explains the flag for a member of this server (their id, roles and this server), with optional
 * attributes and environment: the rule that decided, as the application's evaluation would.
 */
export async function evaluate(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const held = ctx.flags.require(nameOf(i));
  const user = i.options.getUser('member', true);
  const member = i.options.getMember('member') as GuildMember | { roles: string[] } | null;
  const roles = rolesOf(member, i.guildId);
  const attributes = parseAttributes(i.options.getString('attributes'));
  const env = i.options.getString('env');
  const environment = env ? normalName(env) : ctx.config.environment;
  const context: FlagContext = {
    userId: user.id,
    ...(i.guildId ? { guildId: i.guildId } : {}),
    roles,
    environment,
    attributes,
  };
  const e = ctx.flags.set.explain(held.flag.name, context);
  const attrs = Object.entries(attributes).map(([k, v]) => `${k}=${safe(v, 100)}`);
  const embed = new EmbedBuilder()
    .setColor(e.enabled ? COLOR.ok : COLOR.muted)
    .setTitle(`${held.flag.name} is ${e.enabled ? 'on' : 'off'} for ${safe(user.username, 80)}`)
    .setDescription(safe(e.message, 1000))
    .addFields(
      { name: 'Rule', value: code(e.reason), inline: true },
      ...(e.variant ? [{ name: 'Variant', value: code(e.variant, 64), inline: true }] : []),
      { name: 'Environment', value: environment, inline: true },
      { name: 'Member', value: `<@${user.id}>${member ? '' : ' (not a member of this server: no roles)'}` },
      {
        name: 'Roles',
        value: truncate(roles.map((r) => `<@&${r}>`).join(', ') || 'none', 1024),
        inline: true,
      },
      { name: 'Server', value: i.guildId ? code(i.guildId) : 'none', inline: true },
      { name: 'Attributes', value: truncate(attrs.join(', ') || 'none', 1024) },
    )
    .setFooter({ text: 'Not counted in the evaluation statistics.' });
  await reply(i, { embeds: [embed] });
}
