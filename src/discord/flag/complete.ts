import type { ApplicationCommandOptionChoiceData, AutocompleteInteraction } from 'discord.js';
import { isUserError } from '../../base/errors.js';
import { truncate } from '../render.js';
import { choices } from '../reply.js';
import type { CommandContext } from '../types.js';
import { normalName } from './options.js';

const MAX_CHOICES = 25;
const choiceName = (s: string) => truncate(s.replace(/\s+/g, ' '), 100);
/** Subcommands that also act on archived flags (reading them, or restoring one by a rollback). */
const WITH_ARCHIVED = new Set(['view', 'history', 'rollback']);

/** Flag names, versions of the flag named, prerequisites and environments. */
export async function autocomplete(i: AutocompleteInteraction, ctx: CommandContext): Promise<void> {
  // Only users with read access get here (the dispatcher checks).
  const focused = i.options.getFocused(true);
  const typed = String(focused.value);
  const sub = i.options.getSubcommand(false) ?? '';
  let found: ApplicationCommandOptionChoiceData[] = [];
  if (focused.name === 'name') found = flagChoices(ctx, typed, WITH_ARCHIVED.has(sub));
  else if (focused.name === 'prerequisite') {
    const self = normalName(i.options.getString('name') ?? '');
    found = flagChoices(ctx, typed, false).filter((c) => c.value !== self);
  } else if (focused.name === 'version') found = await versionChoices(i, ctx, typed);
  else if (focused.name === 'env') found = envChoices(i, ctx, typed);
  else if (focused.name === 'variant') found = variantChoices(i, ctx, typed);
  else if (focused.name === 'by') found = stickinessChoices(i, ctx, typed);
  await choices(i, found);
}

const heldFlag = (i: AutocompleteInteraction, ctx: CommandContext) =>
  ctx.flags.get(normalName(i.options.getString('name') ?? ''))?.flag;

/** The variants of the flag named, with their weights and payload types. */
function variantChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  typed: string,
): ApplicationCommandOptionChoiceData[] {
  const q = typed.trim().toLowerCase();
  return (heldFlag(i, ctx)?.variants ?? [])
    .filter((v) => v.name.toLowerCase().includes(q))
    .slice(0, MAX_CHOICES)
    .map((v) => ({
      name: choiceName(`${v.name} (${v.weight / 10}%${v.payload ? `, ${v.payload.type} payload` : ''})`),
      value: v.name,
    }));
}

/** The context's ids, then the attributes the flag's conditions read. */
function stickinessChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  typed: string,
): ApplicationCommandOptionChoiceData[] {
  const q = typed.trim().toLowerCase();
  const attributes = (heldFlag(i, ctx)?.conditions ?? []).map((c) => c.attribute);
  return [...new Set(['userId', 'guildId', ...attributes])]
    .filter((n) => n.toLowerCase().includes(q) && n !== 'currentTime')
    .slice(0, MAX_CHOICES)
    .map((n) => ({ name: n, value: n }));
}

function flagChoices(
  ctx: CommandContext,
  typed: string,
  archived: boolean,
): ApplicationCommandOptionChoiceData[] {
  return ctx.flags.search(typed, MAX_CHOICES, { archived }).map((s) => ({
    name: choiceName(`${s.flag.name}${s.flag.archived ? ' (archived)' : ''} — ${s.flag.description}`),
    value: s.flag.name,
  }));
}

/** Earlier versions of the flag named, newest first (the current one cannot be rolled back to). */
async function versionChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  typed: string,
): Promise<ApplicationCommandOptionChoiceData[]> {
  const name = i.options.getString('name');
  if (!name) return [];
  try {
    // Remembered between keystrokes, and answered from memory when the database is slow or down.
    const rows = await ctx.suggestions.get(
      `flag-versions:${name.trim().toLowerCase()}`,
      () => ctx.flags.history(name, { limit: MAX_CHOICES + 1 }),
      [],
    );
    return rows
      .slice(1)
      .filter((v) => String(v.version).startsWith(typed.trim()))
      .map((v) => ({
        name: choiceName(
          `v${v.version} · ${v.action} · ${v.changes.join('; ') || 'no change'} · ${v.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        ),
        value: v.version,
      }));
  } catch (err) {
    if (isUserError(err)) return [];
    throw err;
  }
}

/** This deployment's environments, and those the flag lists. */
function envChoices(
  i: AutocompleteInteraction,
  ctx: CommandContext,
  typed: string,
): ApplicationCommandOptionChoiceData[] {
  const listed = ctx.flags.get(normalName(i.options.getString('name') ?? ''))?.flag.environments ?? [];
  const q = typed.trim().toLowerCase();
  return [...new Set([...ctx.config.environments, ...listed])]
    .filter((e) => e.includes(q))
    .map((e) => ({ name: listed.includes(e) ? `${e} (the flag is on there)` : e, value: e }));
}
