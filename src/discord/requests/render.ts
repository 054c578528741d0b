import {
  ButtonStyle,
  ComponentType,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  type APIEmbedField,
} from 'discord-api-types/v10';
import type { ChangeRequest, RequestChange, RequestStatus } from '../../approvals/requests.js';
import type { ChannelMessage } from '../../jobs/notifier.js';
import { code, COLOR, LIMITS, safe, truncate, who } from '../render.js';

// How a change request looks in Discord: the post in the approval channel, the private details,
// the "Approval needed" answer to a write that became a request, and the list.

type Row = APIActionRowComponent<APIComponentInMessageActionRow>;

/** Custom ids of the post's buttons (declared in commands/config/request/*.ts). */
export const requestButtonId = {
  approve: (id: string) => `config:rq-approve:${id}`,
  reject: (id: string) => `config:rq-reject:${id}`,
  details: (id: string) => `config:rq-details:${id}`,
};

const STATUS_COLOR: Record<RequestStatus, number> = {
  pending: COLOR.info,
  applying: COLOR.warn,
  applied: COLOR.ok,
  rejected: COLOR.error,
  withdrawn: COLOR.muted,
  expired: COLOR.muted,
  failed: COLOR.error,
};

const stamp = (d: Date, style: 'R' | 'f' = 'R') => `<t:${Math.floor(d.getTime() / 1000)}:${style}>`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `KEY at scope: before → after (against vN)`, and what became of it once applied. */
export function changeLine(c: RequestChange): string {
  const line = `${code(c.key, 64)} at ${code(c.scope, 60)}: ${code(c.before, 300)} → ${code(c.after, 300)} (against v${c.baseVersion})`;
  return c.outcome ? `${line} · ${safe(c.outcome, 300)}` : line;
}

/**
 * The proposed values' warnings (soft limits), each under its key when the request holds several;
 * undefined when there are none.
 */
export function warningsField(r: ChangeRequest): APIEmbedField | undefined {
  const several = r.changes.length > 1;
  const lines = r.changes.flatMap((c) =>
    (c.warnings ?? []).map((w) => {
      const where = `${code(c.key, 64)}${c.scope === 'global' ? '' : ` at ${code(c.scope, 60)}`}: `;
      return `${several ? where : ''}${safe(w, 400)}`;
    }),
  );
  if (!lines.length) return undefined;
  return { name: '⚠️ Warnings', value: truncate(lines.join('\n'), LIMITS.fieldValue) };
}

/** `1 of 2: @bob`. */
export function approvalsText(r: ChangeRequest): string {
  const count = `${r.approvals.length} of ${r.required}`;
  return r.approvals.length ? `${count}: ${r.approvals.map((a) => who(a.actor)).join(', ')}` : count;
}

/** One line saying where the request stands. */
export function statusLine(r: ChangeRequest): string {
  switch (r.status) {
    case 'pending': {
      const cleared = r.rev > 1 ? [...r.log].reverse().find((l) => /cleared|edited/.test(l.text)) : undefined;
      const missing = r.required - r.approvals.length;
      const waiting =
        missing > 0
          ? `**Pending**: needs ${plural(missing, 'more approval')} from an admin other than the requester.`
          : '**Approved**: applying now…';
      return cleared ? `${waiting}\n⚠️ ${safe(cleared.text, 600)}: review it again.` : waiting;
    }
    case 'applying':
      return '**Applying** the approved changes…';
    case 'applied':
      return `**Applied** ${r.changes
        .filter((c) => c.appliedVersion !== undefined)
        .map((c) => `as v${c.appliedVersion}`)
        .join(', ')}`.trim();
    case 'rejected':
      return `**Rejected** by ${who(r.decidedBy)}: ${safe(r.rejectReason ?? '', 600)}`;
    case 'withdrawn':
      return `**Withdrawn** by the requester.`;
    case 'expired':
      return `**Expired** ${stamp(r.expiresAt)} without enough approvals; nothing was changed.`;
    case 'failed':
      return `**Failed**: ${plural(r.changes.filter((c) => c.appliedVersion === undefined).length, 'change')} not applied (see below).`;
  }
}

function logLines(r: ChangeRequest, last: number): string {
  const steps = r.log.slice(-last);
  const lines = steps.map((l) => `${stamp(l.at)} ${who(l.actor)}: ${safe(l.text, 300)}`);
  const skipped = r.log.length - steps.length;
  return truncate([...(skipped > 0 ? [`(${skipped} earlier)`] : []), ...lines].join('\n'), LIMITS.fieldValue);
}

/** The request as the approval channel shows it; `full` for the private details (every change, the whole log). */
export function requestEmbed(r: ChangeRequest, full = false): APIEmbed {
  const shown = full ? r.changes : r.changes.slice(0, 10);
  const more = r.changes.length - shown.length;
  const description = [
    statusLine(r),
    '',
    ...shown.map(changeLine),
    ...(more > 0 ? [`…and ${more} more (Details)`] : []),
  ].join('\n');
  const fields: APIEmbedField[] = [
    { name: 'Requested by', value: `${who(r.requester)} ${stamp(r.createdAt)}`, inline: true },
    { name: 'Approvals', value: approvalsText(r), inline: true },
  ];
  if (r.status === 'pending') fields.push({ name: 'Expires', value: stamp(r.expiresAt), inline: true });
  if (r.reason) fields.push({ name: 'Reason', value: safe(r.reason) });
  const warnings = warningsField(r);
  if (warnings) fields.push(warnings);
  if (r.preview.length)
    fields.push({
      name: 'Preview',
      value: truncate(r.preview.map((p) => safe(p, 400)).join('\n'), LIMITS.fieldValue),
    });
  if (full) fields.push(...fullLog(r));
  else fields.push({ name: 'Last steps', value: logLines(r, 4) });
  return {
    color: STATUS_COLOR[r.status],
    title: `Change request ${r.id} · ${r.level} impact`,
    description: truncate(description, LIMITS.description),
    fields,
    footer: { text: `${r.kind} · revision ${r.rev} · ${r.status}` },
  };
}

/** The whole log, over as many fields as it takes (newest steps kept if it is too long). */
function fullLog(r: ChangeRequest): APIEmbedField[] {
  const fields: APIEmbedField[] = [];
  let chunk: string[] = [];
  const flush = () => {
    if (chunk.length)
      fields.push({ name: fields.length ? 'Log (continued)' : 'Log', value: chunk.join('\n') });
    chunk = [];
  };
  for (const l of r.log) {
    const line = `${stamp(l.at, 'f')} ${who(l.actor)}: ${safe(l.text, 300)}`;
    if ([...chunk, line].join('\n').length > LIMITS.fieldValue) flush();
    chunk.push(line);
  }
  flush();
  return fields.slice(-8);
}

/** Approve, Reject and Details while the request is pending; nothing once it is closed. */
export function requestButtons(r: ChangeRequest): Row[] {
  if (r.status !== 'pending') return [];
  return [
    {
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.Button,
          style: ButtonStyle.Success,
          custom_id: requestButtonId.approve(r.id),
          label: 'Approve',
        },
        {
          type: ComponentType.Button,
          style: ButtonStyle.Danger,
          custom_id: requestButtonId.reject(r.id),
          label: 'Reject',
        },
        {
          type: ComponentType.Button,
          style: ButtonStyle.Secondary,
          custom_id: requestButtonId.details(r.id),
          label: 'Details',
        },
      ],
    },
  ];
}

/** The post of a request in the approval channel. */
export function requestMessage(r: ChangeRequest): ChannelMessage {
  return { embeds: [requestEmbed(r)], components: requestButtons(r) };
}

/**
 * The answer to a write that became a change request: not a refusal, so not red. Says which
 * request, how many approvals, where approvers see it and how to follow it.
 */
export function approvalNeededEmbed(r: ChangeRequest, channelId?: string): APIEmbed {
  const view = `/config request view id:${r.id}`;
  const warnings = warningsField(r);
  return {
    color: warnings ? COLOR.warn : COLOR.info,
    title: 'Approval needed',
    description: [
      `Nothing is changed yet: this is ${r.level} impact and needs ${plural(r.required, 'approval')} from another admin.`,
      `Change request **${r.id}** was created.`,
      '',
      ...r.changes.map(changeLine),
    ].join('\n'),
    fields: [
      { name: 'Approvals', value: approvalsText(r), inline: true },
      { name: 'Expires', value: stamp(r.expiresAt), inline: true },
      ...(warnings ? [warnings] : []),
      {
        name: 'Where',
        value: channelId
          ? `Posted in <#${channelId}>, where admins approve or reject it.`
          : `Admins approve it with \`/config request approve id:${r.id}\` (no approval channel is set).`,
      },
      { name: 'Follow it', value: `\`${view}\` · withdraw it with \`/config request withdraw id:${r.id}\`` },
    ],
  };
}

/** One line per request, for /config requests. */
export function listLine(r: ChangeRequest): string {
  const first = r.changes[0];
  const what = first
    ? `${code(first.key, 64)}${first.scope === 'global' ? '' : ` at ${code(first.scope, 60)}`}`
    : '';
  const more = r.changes.length > 1 ? ` +${r.changes.length - 1}` : '';
  const approvals = r.status === 'pending' ? ` · ${r.approvals.length} of ${r.required}` : '';
  return `**${r.id}** · ${r.status}${approvals} · ${what}${more} · ${safe(r.requester.tag, 60)} ${stamp(r.createdAt)}`;
}
