import type { ApplicationCommandOptionChoiceData, AutocompleteInteraction } from 'discord.js';
import { truncate } from '../render.js';
import { choices } from '../reply.js';
import type { CommandContext } from '../types.js';

/** Ids of pending requests for the `id` option, newest first, matching what is typed. */
export async function requestAutocomplete(i: AutocompleteInteraction, ctx: CommandContext): Promise<void> {
  const typed = String(i.options.getFocused()).trim().toUpperCase();
  const pending = await ctx.suggestions.get(
    'pending requests',
    () => ctx.config.requests.list('pending', 100),
    [],
  );
  const found: ApplicationCommandOptionChoiceData[] = pending
    .filter((r) => r.id.includes(typed) || r.changes.some((c) => c.key.includes(typed)))
    .slice(0, 25)
    .map((r) => {
      const c = r.changes[0];
      const what = c
        ? `${c.key}${c.scope === 'global' ? '' : ` at ${c.scope}`}: ${c.before} → ${c.after}`
        : '';
      return {
        name: truncate(
          `${r.id} · ${what} · ${r.approvals.length} of ${r.required} · ${r.requester.tag}`,
          100,
        ),
        value: r.id,
      };
    });
  await choices(i, found);
}
