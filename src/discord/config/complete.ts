import type { AutocompleteInteraction, ApplicationCommandOptionChoiceData } from 'discord.js';
import { present } from '../../config/present.js';
import type { RegisteredKey } from '../../config/registry.js';
import { isUserError } from '../../base/errors.js';
import { truncate } from '../render.js';
import { selfServiceKey } from '../preconditions.js';
import { choices } from '../reply.js';
import type { CommandContext } from '../types.js';
import { snapshotChoices } from './snapshot.js';

/** Discord shows at most 25 choices, each name and value at most 100 characters. */
const MAX_CHOICES = 25;
const choiceName = (s: string) => truncate(s.replace(/\s+/g, ' '), 100);

export async function autocomplete(i: AutocompleteInteraction, ctx: CommandContext): Promise<void> {
  // Only users who may run the subcommand get here (the dispatcher checks): members of an allowed
  // server, and Administrators of another server for a self-service subcommand, who are offered
  // only the self-service keys at their own server's scope.
  const focused = i.options.getFocused(true);
  let found: ApplicationCommandOptionChoiceData[] = [];
  if (i.options.getSubcommandGroup(false) === 'snapshot')
    found = await snapshotChoices(i, ctx, { name: focused.name, value: String(focused.value) });
  else if (focused.name === 'setting') found = settingChoices(i, ctx, String(focused.value));
  else if (['version', 'from', 'to'].includes(focused.name))
    found = await versionChoices(i, ctx, String(focused.value));
  else if (focused.name === 'value') found = valueChoices(i, ctx, String(focused.value));
  else if (focused.name === 'scope') found = scopeChoices(i, ctx, String(focused.value));
  await choices(i, found);
}

function settingChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  typed: string,
): ApplicationCommandOptionChoiceData[] {
  const own = ctx.access.ownScope(i);
  const defs = own ? ctx.config.search(typed, Infinity).filter(selfServiceKey) : ctx.config.search(typed);
  return defs
    .slice(0, MAX_CHOICES)
    .map((d) => ({ name: choiceName(`${d.key} — ${d.description}`), value: d.key }));
}

/** The key named by `setting`, if this server may have suggestions for it (see autocomplete). */
function settingOf(i: AutocompleteInteraction, ctx: CommandContext): RegisteredKey | undefined {
  const setting = i.options.getString('setting');
  if (!setting) return undefined;
  try {
    const def = ctx.config.definition(setting);
    return ctx.access.ownScope(i) && !selfServiceKey(def) ? undefined : def;
  } catch (err) {
    if (isUserError(err)) return undefined;
    throw err;
  }
}

async function versionChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  typed: string,
): Promise<ApplicationCommandOptionChoiceData[]> {
  const def = settingOf(i, ctx);
  if (!def) return [];
  let scope: string;
  try {
    // The versions of the scope being rolled back (a server outside the allowlist: its own).
    scope = ctx.config.scopeOf(def, ctx.access.ownScope(i) ?? i.options.getString('scope'));
  } catch (err) {
    if (isUserError(err)) return [];
    throw err;
  }
  const rows = await ctx.suggestions.get(
    `versions:${def.key}|${scope}`,
    () => ctx.config.history(def.key, { limit: MAX_CHOICES, scope }),
    [],
  );
  return rows
    .filter((v) => String(v.version).startsWith(typed.trim()))
    .map((v) => ({
      name: choiceName(
        `v${v.version} · ${v.action} · ${present(def, v.value)} · ${v.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      ),
      value: v.version,
    }));
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
  const own = ctx.access.ownScope(i);
  if (!i.options.getString('setting')) return [own ?? 'global'].map((s) => ({ name: s, value: s }));
  const def = settingOf(i, ctx);
  if (!def) return [];
  const held = new Set<string>(ctx.config.overrideScopes(def.key));
  const offered = new Set<string>(own ? [own] : ['global']);
  if (!own) {
    if (def.scopes.includes('env')) for (const e of ctx.config.environments) offered.add(`env:${e}`);
    if (def.scopes.includes('guild') && i.guildId) offered.add(`guild:${i.guildId}`);
    for (const s of held) offered.add(s);
  }
  const q = typed.trim().toLowerCase();
  return [...offered]
    .filter((s) => s.toLowerCase().includes(q))
    .slice(0, MAX_CHOICES)
    .map((s) => ({ name: choiceName(held.has(s) ? `${s} (has an override)` : s), value: s }));
}

/** For keys with a closed list of values (enums, booleans): those values; otherwise the current value. */
function valueChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  typed: string,
): ApplicationCommandOptionChoiceData[] {
  const def = settingOf(i, ctx);
  if (!def || def.sensitive) return [];
  // A server managing its own value sees the value in force for it.
  const own = ctx.access.ownScope(i);
  const current = own ? ctx.config.get(def.key, { guildId: i.guildId }) : ctx.config.get(def.key);
  const values = def.choices ?? [present(def, current)];
  return values
    .filter((v) => v.toLowerCase().includes(typed.toLowerCase()))
    .map((v) => ({ name: choiceName(v), value: v }));
}
