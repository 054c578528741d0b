import type { AutocompleteInteraction, ApplicationCommandOptionChoiceData } from 'discord.js';
import { present } from '../../config/present.js';
import { isUserError } from '../../errors.js';
import { truncate } from '../render.js';
import { choices } from '../reply.js';
import type { CommandContext } from '../types.js';
import { snapshotChoices } from './snapshot.js';

/** Discord shows at most 25 choices, each name and value at most 100 characters. */
const MAX_CHOICES = 25;
const choiceName = (s: string) => truncate(s.replace(/\s+/g, ' '), 100);

export async function autocomplete(i: AutocompleteInteraction, ctx: CommandContext): Promise<void> {
  // Only users with read access get here (the dispatcher checks): refused ones get no suggestions.
  const focused = i.options.getFocused(true);
  let found: ApplicationCommandOptionChoiceData[] = [];
  if (i.options.getSubcommandGroup(false) === 'snapshot')
    found = await snapshotChoices(i, ctx, { name: focused.name, value: String(focused.value) });
  else if (focused.name === 'setting') found = settingChoices(ctx, String(focused.value));
  else if (['version', 'from', 'to'].includes(focused.name))
    found = await versionChoices(i, ctx, String(focused.value));
  else if (focused.name === 'value') found = valueChoices(i, ctx, String(focused.value));
  else if (focused.name === 'scope') found = scopeChoices(i, ctx, String(focused.value));
  await choices(i, found);
}

function settingChoices(ctx: CommandContext, typed: string): ApplicationCommandOptionChoiceData[] {
  return ctx.config
    .search(typed, MAX_CHOICES)
    .map((d) => ({ name: choiceName(`${d.key} — ${d.description}`), value: d.key }));
}

async function versionChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  typed: string,
): Promise<ApplicationCommandOptionChoiceData[]> {
  const setting = i.options.getString('setting');
  if (!setting) return [];
  try {
    const def = ctx.config.definition(setting);
    // The versions of the scope being rolled back (a server outside the allowlist: its own).
    const scope = i.options.getString('scope') ?? ctx.access.ownScope(i);
    const rows = await ctx.config.history(def.key, { limit: MAX_CHOICES, scope });
    return rows
      .filter((v) => String(v.version).startsWith(typed.trim()))
      .map((v) => ({
        name: choiceName(
          `v${v.version} · ${v.action} · ${present(def, v.value)} · ${v.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        ),
        value: v.version,
      }));
  } catch (err) {
    if (isUserError(err)) return [];
    throw err;
  }
}

/**
 * The scopes the key allows: global, each declared environment, this server, and every scope
 * that already holds an override of the key (marked).
 */
function scopeChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  typed: string,
): ApplicationCommandOptionChoiceData[] {
  const setting = i.options.getString('setting');
  if (!setting) return [{ name: 'global', value: 'global' }];
  try {
    const def = ctx.config.definition(setting);
    const held = new Set<string>(ctx.config.overrideScopes(def.key));
    const offered = new Set<string>(['global']);
    if (def.scopes.includes('env')) for (const e of ctx.config.environments) offered.add(`env:${e}`);
    if (def.scopes.includes('guild') && i.guildId) offered.add(`guild:${i.guildId}`);
    for (const s of held) offered.add(s);
    const q = typed.trim().toLowerCase();
    return [...offered]
      .filter((s) => s.toLowerCase().includes(q))
      .slice(0, MAX_CHOICES)
      .map((s) => ({ name: choiceName(held.has(s) ? `${s} (has an override)` : s), value: s }));
  } catch (err) {
    if (isUserError(err)) return [];
    throw err;
  }
}

/** For keys with a closed list of values (enums, booleans): those values; otherwise the current value. */
function valueChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  typed: string,
): ApplicationCommandOptionChoiceData[] {
  const setting = i.options.getString('setting');
  if (!setting) return [];
  try {
    const def = ctx.config.definition(setting);
    if (def.sensitive) return [];
    const values = def.choices ?? [present(def, ctx.config.get(def.key))];
    return values
      .filter((v) => v.toLowerCase().includes(typed.toLowerCase()))
      .map((v) => ({ name: choiceName(v), value: v }));
  } catch (err) {
    if (isUserError(err)) return [];
    throw err;
  }
}
