import type { GuildMember } from 'discord.js';
import { UserError } from '../../base/errors.js';
import { ATTRIBUTE_NAME } from '@config-bot/client/flags';
import { preview } from '../../base/text.js';

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
export function rolesOf(member: GuildMember | { roles: string[] } | null, guildId: string | null): string[] {
  if (!member) return [];
  const ids = Array.isArray(member.roles) ? member.roles : [...member.roles.cache.keys()];
  return ids.filter((id) => id !== guildId);
}
