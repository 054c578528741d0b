import { UserError } from '../base/errors.js';
import { ApprovalRequired } from '../approvals/gate.js';
import type { ChangeRequest } from '../approvals/requests.js';
import type { RequestContext } from '../config/types.js';
import type { FlagInput } from '@config-bot/client/flags';
import type { FlagWrite } from '../flags/flags.js';
import { slotOfFlag } from '../flags/types.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { issuesOf, type FieldIssue } from './flags-edit.js';
import type { PanelDeps } from './types.js';

/** How a flag write from the panel ended, for the page to say. */
export type FlagOutcome =
  | { kind: 'done'; write: FlagWrite; warnings: string[] }
  /** The flag's impact needs approvals: a change request was made instead. */
  | { kind: 'request'; request: ChangeRequest }
  | { kind: 'unchanged'; message: string }
  /** Refused (and audited by the store); `issues` name the fields when a form was at fault. */
  | { kind: 'refused'; error: UserError; issues: FieldIssue[] };

/** What every panel write is recorded with, as Discord records its channel. */
export const panelContext = (session: PanelSessionDoc): RequestContext => ({
  ...(session.guildId ? { guildId: session.guildId } : {}),
  channelId: 'panel',
});

/**
 * One flag write from the panel, checked as /flag checks it: flags are global, so a self-service
 * session may not change them (refused and audited as denied); the attempt counts against the
 * user's write limits, shared with Discord (a refusal audited as denied too); the store then
 * validates, asks for approvals and audits, with channel `panel`. `proposed` is what the form
 * asked for, to name the fields of a refusal.
 */
export async function flagWrite(
  deps: Pick<PanelDeps, 'config' | 'limits'>,
  session: PanelSessionDoc,
  attempt: { name: string; action: 'create' | 'set' | 'archive' | 'rollback' },
  write: () => Promise<FlagWrite>,
  proposed: () => FlagInput | undefined,
  warnings: () => string[] = () => [],
): Promise<FlagOutcome> {
  const key = slotOfFlag(attempt.name.slice(0, 64));
  const denied = (err: UserError) =>
    deps.config.audit.record({
      key: key.slice(0, 64),
      action: attempt.action,
      status: 'denied',
      actor: session.user,
      error: err.detail ?? err.message,
      ...panelContext(session),
    });
  if (session.ownScope) {
    const err = new UserError(
      'PERMISSION_DENIED',
      `Flags are global: a server's own admin (${session.ownScope}) cannot change them.`,
      { key, action: attempt.action },
    );
    await denied(err);
    throw err;
  }
  let ticket: { settle(): Promise<void> };
  try {
    ticket = await deps.limits.checkAttempt(session.user.id, { key, action: attempt.action });
  } catch (err) {
    if (err instanceof UserError && err.code === 'RATE_LIMITED') await denied(err);
    throw err;
  }
  try {
    const done = await write();
    await deps.limits.recordChange(session.user.id);
    return { kind: 'done', write: done, warnings: warnings() };
  } catch (err) {
    if (err instanceof ApprovalRequired) return { kind: 'request', request: err.request };
    if (!(err instanceof UserError)) throw err;
    if (err.code === 'UNCHANGED') return { kind: 'unchanged', message: err.message };
    return { kind: 'refused', error: err, issues: issuesOf(err, proposed()) };
  } finally {
    await ticket.settle();
  }
}
