import type {
  ApplicationCommandOptionChoiceData,
  AutocompleteInteraction,
  ChatInputCommandInteraction,
} from 'discord.js';
import type { AuditAction } from '../../config/models.js';
import { REQUEST_STATUSES, type RequestStatus } from '../../config/requests.js';
import { actorOf, contextOf } from '../access.js';
import { customIdPart } from '../preconditions.js';
import { COLOR, LIMITS, truncate } from '../render.js';
import { choices, editReply } from '../reply.js';
import type { CommandContext, Invocation } from '../types.js';
import { approvedEmbed, closedEmbed, editedEmbed } from './answer.js';
import { editedChange } from './edit.js';
import { listLine, requestButtons, requestEmbed } from './render.js';

// `/config requests` and `/config request approve|reject|withdraw|view|edit`. Access, the
// acknowledgement and the attempt limit are enforced before these run (`requires` in
// commands/config.ts); the steps themselves are checked and audited by ChangeRequests.

/** The statuses `/config requests status:` offers. */
export const STATUS_CHOICES = REQUEST_STATUSES.map((s) => ({ name: s, value: s }));

/** What a request command, button or modal concerns, for the audit row of a refusal: `request:<id>`. */
export function requestAttempt(action: AuditAction) {
  return (i: Invocation): { key: string; action: AuditAction } => {
    const id = i.isChatInputCommand() ? (i.options.getString('id') ?? '') : customIdPart(i, 2);
    return { key: `request:${id.trim().toUpperCase()}`.slice(0, 64), action };
  };
}

const idOf = (i: ChatInputCommandInteraction) => i.options.getString('id', true);

/** `/config requests [status]`: newest first. */
export async function requestsList(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const status = (i.options.getString('status') ?? undefined) as RequestStatus | undefined;
  const found = await ctx.config.requests.list(status, 25);
  const title = status ? `Change requests: ${status}` : 'Change requests';
  const description = found.length
    ? found.map(listLine).join('\n')
    : `No ${status ? `${status} ` : ''}change requests.`;
  await editReply(i, {
    embeds: [
      {
        color: COLOR.info,
        title,
        description: truncate(description, LIMITS.description),
        footer: { text: 'Newest first · /config request view id:<id> for one' },
      },
    ],
  });
}

/** `/config request view id:`: everything, with the buttons while it is pending. */
export async function requestView(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const r = await ctx.config.requests.get(idOf(i));
  await editReply(i, { embeds: [requestEmbed(r, true)], components: requestButtons(r) });
}

export async function requestApprove(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const r = await ctx.config.requests.approve(idOf(i), actorOf(i), contextOf(i));
  await editReply(i, { embeds: [approvedEmbed(r)] });
}

export async function requestReject(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const reason = i.options.getString('reason', true);
  const r = await ctx.config.requests.reject(idOf(i), actorOf(i), reason, contextOf(i));
  await editReply(i, { embeds: [closedEmbed(r, `Rejected ${r.id}`)] });
}

export async function requestWithdraw(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const r = await ctx.config.requests.withdraw(idOf(i), actorOf(i), contextOf(i));
  await editReply(i, { embeds: [closedEmbed(r, `Withdrew ${r.id}`)] });
}

/** `/config request edit id: value:`: the requester proposes another value; approvals are cleared. */
export async function requestEdit(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const requests = ctx.config.requests;
  const before = await requests.get(idOf(i));
  const { changes, warnings } = editedChange(ctx.config, before, i.options.getString('value', true));
  const after = await requests.edit(before.id, actorOf(i), changes, contextOf(i));
  await editReply(i, { embeds: [editedEmbed(after, before.approvals.length, warnings)] });
}

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
