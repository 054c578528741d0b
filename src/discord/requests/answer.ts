import type { APIEmbed } from 'discord.js';
import type { ChangeRequest } from '../../approvals/requests.js';
import { COLOR, LIMITS, safe, truncate } from '../render.js';
import { approvalsText, changeLine, statusLine } from './render.js';

// The private answers to a step an admin took on a change request (a button or a command).

/** What an approval did: counted (1 of 2), applied (as v5), or not applied. */
export function approvedEmbed(r: ChangeRequest): APIEmbed {
  if (r.status === 'applied')
    return {
      color: COLOR.ok,
      title: `Approved and applied ${r.id}`,
      description: truncate(
        [`Approvals: ${approvalsText(r)}`, '', ...r.changes.map(changeLine)].join('\n'),
        LIMITS.description,
      ),
    };
  if (r.status === 'applying' || (r.status === 'pending' && r.approvals.length >= r.required))
    return {
      color: COLOR.info,
      title: `Approved ${r.id}`,
      description: `Another approval completed the quorum a moment ago: it is being applied. Approvals: ${approvalsText(r)}.`,
    };
  if (r.status === 'pending')
    return {
      color: COLOR.info,
      title: `Approved ${r.id}`,
      description: `Approvals: ${approvalsText(r)}. It applies once ${r.required} admins approved it.`,
    };
  return {
    color: r.status === 'failed' ? COLOR.error : COLOR.warn,
    title: `${r.id}: ${r.status}`,
    description: truncate([statusLine(r), '', ...r.changes.map(changeLine)].join('\n'), LIMITS.description),
  };
}

/** A rejection, a withdrawal or an edit, done. */
export function closedEmbed(r: ChangeRequest, title: string): APIEmbed {
  return {
    color: COLOR.muted,
    title,
    description: truncate([statusLine(r), '', ...r.changes.map(changeLine)].join('\n'), LIMITS.description),
  };
}

/** An edit by the requester: what it proposes now, and that earlier approvals no longer count. */
export function editedEmbed(r: ChangeRequest, cleared: number, warnings: string[]): APIEmbed {
  return {
    color: COLOR.info,
    title: `Edited ${r.id}`,
    description: truncate(
      [
        ...r.changes.map(changeLine),
        '',
        cleared
          ? `${cleared} approval${cleared === 1 ? ' was' : 's were'} cleared: approvers review it again.`
          : 'It had no approvals yet.',
        ...warnings.map((w) => `⚠️ ${safe(w, 400)}`),
      ].join('\n'),
      LIMITS.description,
    ),
  };
}
