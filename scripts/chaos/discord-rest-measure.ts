/**
 * What one fault of the Discord REST scenario did: what the users were shown (from the loopback
 * Discord's messages and captured calls), what the database holds afterwards (versions, audit
 * rows), and how the bots retried (from the server's record of every request).
 */
import type { APIMessage } from 'discord.js';
import type { Connection } from 'mongoose';
import { slotOfFlag } from '../../src/flags/types.js';
import { stackLines } from './lib/procs.js';
import { retryWaits, type DiscordRestServer, type Fault } from './discord-rest-server.js';
import type { FaultResult } from './types.js';

/** One thing a user or an approver should have seen: a reply, a post, an edit, an alert. */
export interface Outcome {
  kind: 'set' | 'refusal' | 'request' | 'approve' | 'post' | 'edit' | 'alert';
  /** The command line, or what the message is. */
  what: string;
  /** Whether it reached Discord (a reply not left "thinking…", a post or an edit shown). */
  delivered: boolean;
  /** What it shows, as text. */
  text: string;
  /** The change request (CR-…) or the flag it is about. */
  id?: string;
  /** The bot process could not carry the command out (it exited, a kill failed). */
  error?: string;
}

/** A row of the table, and what this scenario checks beyond it. */
export interface DiscordRestResult extends FaultResult {
  /** Replies, approval messages, edits or alerts never delivered (must be 0). */
  messagesLost: number;
  /** Acknowledged writes whose version and audit row were looked for. */
  writesChecked: number;
  /** 429s answered, and of those, retried sooner than their `retry_after` (must be 0) or never. */
  rateLimited: number;
  retriesTooEarly: number;
  neverRetried: number;
}

const HIGH = 'AI_CONFIDENCE_THRESHOLD';

/** Everything a message shows, as one text (content, then each embed's parts). */
export function textOf(m: Pick<APIMessage, 'content' | 'embeds'>): string {
  const parts = [m.content];
  for (const e of m.embeds ?? [])
    parts.push(
      e.title ?? '',
      e.description ?? '',
      ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`),
      e.footer?.text ?? '',
    );
  return parts.filter(Boolean).join('\n');
}

const SUCCESS: Partial<Record<Outcome['kind'], RegExp>> = {
  set: /^Updated /,
  request: /^Approval needed/m,
  approve: /^Approved and applied /m,
};
/** A refusal that says what to do: its title, then a reason. */
const REFUSAL = /^(Not done|Not allowed|Slow down)\n.+/m;

export interface RowContext {
  server: DiscordRestServer;
  conn: Connection;
  /** Where the row's requests and calls start in the server's records. */
  from: { received: number; calls: number; violations: number };
  channels: { approvals: string; alerts: string };
}

export async function measureRow(
  fault: string,
  plan: Fault,
  outcomes: Outcome[],
  rc: RowContext,
): Promise<DiscordRestResult> {
  const { server, conn } = rc;
  const notes: string[] = [];
  const calls = server.fake.calls.slice(rc.from.calls);
  const received = server.received.slice(rc.from.received);
  const versions = conn.collection('config_versions');
  const audit = conn.collection('config_audit_logs');
  let succeeded = 0;
  let refused = 0;
  let lost = 0;
  let versionsLost = 0;
  let duplicated = 0;
  let auditMissing = 0;
  let other = 0;
  for (const o of outcomes) {
    if (!o.delivered) {
      lost++;
      notes.push(`not delivered: ${o.what}${o.error ? ` (${o.error})` : ''}`);
      continue;
    }
    const ok = SUCCESS[o.kind];
    if (ok ? ok.test(o.text) : o.kind !== 'refusal') succeeded++;
    else if (REFUSAL.test(o.text)) refused++;
    else {
      other++;
      notes.push(`unexpected answer to ${o.what}: ${o.text.split('\n')[0] ?? ''}`);
    }
  }
  // Every acknowledged write (a set, an approved request applied, a kill) stored once and audited.
  const writes = writesOf(outcomes);
  for (const w of writes) {
    const stored = await versions.find(w.filter).toArray();
    if (stored.length > 1) {
      duplicated += stored.length - 1;
      notes.push(`${w.what} stored as ${stored.length} versions`);
    }
    if (!w.acknowledged) continue;
    const found = stored.find((d) => w.version === undefined || d.version === w.version);
    if (!found) {
      versionsLost++;
      notes.push(`${w.what}: acknowledged, but no version`);
    } else if (
      !(await audit.countDocuments({ key: w.filter.key, version: found.version, status: 'success' }))
    ) {
      auditMissing++;
      notes.push(`${w.what}: no audit row for v${String(found.version)}`);
    }
  }
  const posts = (channelId: string, id: string) =>
    calls.filter(
      (c) =>
        c.kind === 'channelMessage' &&
        c.path.startsWith(`/channels/${channelId}/`) &&
        JSON.stringify(c.body).includes(id),
    ).length;
  for (const o of outcomes.filter((x) => (x.kind === 'post' || x.kind === 'alert') && x.id)) {
    const n = posts(o.kind === 'post' ? rc.channels.approvals : rc.channels.alerts, o.id ?? '');
    if (n > 1) {
      duplicated += n - 1;
      notes.push(`${o.what} posted ${n} times`);
    }
  }
  const stackTraces = calls.filter((c) => stackLines(shownText(c.body)) > 0).length;
  const waits = retryWaits(received);
  const early = waits.filter((w) => w.waitedMs !== null && w.waitedMs < w.retryAfterMs);
  const never = waits.filter((w) => w.waitedMs === null);
  if (waits.length) {
    const shortest = Math.min(
      ...waits.flatMap((w) => (w.waitedMs === null ? [] : [w.waitedMs - w.retryAfterMs])),
    );
    notes.push(
      `${waits.length} answers 429: ${waits.length - early.length - never.length} retried after retry_after or later (shortest margin ${Number.isFinite(shortest) ? Math.round(shortest) : '-'} ms), ${early.length} too early, ${never.length} never`,
    );
  }
  const faulted = received.filter((r) => r.fault);
  const violations = server.fake.violations.slice(rc.from.violations);
  const acked = violations.filter((v) => v.code === 40060).length;
  if (acked)
    notes.push(
      `${acked} retried first responses answered 40060 (Discord had the lost try already): carried on as acknowledged`,
    );
  for (const v of violations.filter((x) => x.code !== 40060))
    notes.push(`Discord refused ${v.method} ${v.path}: ${v.code} ${v.message}`);
  const modes = ['429', '500', 'timeout', 'late'].flatMap((m) => {
    const n = faulted.filter((r) => r.fault === m).length;
    return n ? [`${n} ${m === 'late' ? 'timeout after Discord acted' : m}`] : [];
  });
  notes.unshift(`faulted answers: ${modes.join(', ')} (at most ${plan.perRequest} per request)`);
  return {
    fault,
    attempted: outcomes.length,
    succeeded,
    refused,
    versionsLost,
    duplicated,
    auditMissing,
    chainIntact: null,
    recoverMs: recovery(received),
    stackTraces,
    notes,
    otherAnswers: other,
    messagesLost: lost,
    writesChecked: writes.filter((w) => w.acknowledged).length,
    rateLimited: waits.length,
    retriesTooEarly: early.length,
    neverRetried: never.length,
  };
}

interface Write {
  what: string;
  /** The versions it made: one, unless it was carried out twice. */
  filter: { key: string } & Record<string, unknown>;
  /** The user (or the kill's caller) was told it was done. */
  acknowledged: boolean;
  /** The version the answer named, when it named one. */
  version?: number;
}

function writesOf(outcomes: Outcome[]): Write[] {
  return outcomes.flatMap((o): Write[] => {
    if (o.kind === 'set') {
      const [, key = '', value = ''] = /setting:(\S+) value:(\S+)/.exec(o.what) ?? [];
      const v = /Version: \d+ → (\d+)/.exec(o.text)?.[1];
      const acknowledged = Boolean(o.delivered && v && SUCCESS.set?.test(o.text));
      return [
        {
          what: `${key} = ${value}`,
          filter: { key, value: Number(value) },
          acknowledged,
          ...(v ? { version: Number(v) } : {}),
        },
      ];
    }
    if (o.kind === 'approve' && o.id)
      return [
        {
          what: `${o.id} applied`,
          filter: { key: HIGH, request: o.id },
          acknowledged: o.delivered && Boolean(SUCCESS.approve?.test(o.text)),
        },
      ];
    if (o.kind === 'alert' && o.id)
      return [
        {
          what: `kill of ${o.id}`,
          filter: { key: slotOfFlag(o.id), action: 'kill' },
          acknowledged: !o.error,
        },
      ];
    return [];
  });
}

/**
 * From the end of the fault (its last faulted answer; for a request left unanswered, when the
 * client gave up on it and sent it again) to the first success after it (ms), on Discord's routes.
 */
function recovery(received: DiscordRestServer['received']): number | null {
  const ends = received.flatMap((r, i) => {
    if (!r.fault) return [];
    if (r.status > 0) return [r.answeredAt];
    const retry = received.slice(i + 1).find((n) => n.key === r.key);
    return [Math.min(r.answeredAt, retry?.at ?? Infinity)];
  });
  if (!ends.length) return null;
  const end = Math.max(...ends);
  const next = received.find(
    (r) => r.cls !== 'other' && !r.fault && r.status >= 200 && r.status < 300 && r.answeredAt >= end,
  );
  return next ? next.answeredAt - end : null;
}

/** The text a call shows a user (content, embeds), real line breaks kept for the stack check. */
function shownText(body: Record<string, unknown> | undefined): string {
  if (!body) return '';
  const data = (body.data ?? body) as Partial<APIMessage>;
  return textOf({ content: typeof data.content === 'string' ? data.content : '', embeds: data.embeds ?? [] });
}
