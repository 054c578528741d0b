import { createHash } from 'node:crypto';
import { UserError } from '../base/errors.js';
import type { RequestContext } from '../config/types.js';
import type { AuditAction } from '../storage/config-models.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { PanelRefusal } from './guard.js';
import type { PanelDeps } from './types.js';

// What the snapshot, export and import pages share: where their writes say they came from, the
// bot's per-user limits around each attempt, the rule that these are whole-configuration steps
// (a server's own admin takes none of them, as in Discord), and the check that a confirmed step
// is the one its preview showed.

type Body = Record<string, string | undefined>;

/** A snapshot's page. */
export const snapshotHref = (name: string) => `/panel/snapshots/${encodeURIComponent(name)}`;

/** Where panel writes say they came from in the audit log. */
export const contextOf = (s: PanelSessionDoc): RequestContext => ({
  ...(s.guildId ? { guildId: s.guildId } : {}),
  channelId: 'panel',
});

/** A form field as trimmed text ('' when missing). */
export const field = (body: Body | undefined, name: string): string => body?.[name]?.trim() ?? '';

/**
 * Snapshots, exports and imports cover every scope, so a self-service session (one server's own
 * admin) sees none of them: Discord refuses them to a server outside the allowlist too.
 */
export function wholeConfiguration(session: PanelSessionDoc): void {
  if (session.ownScope)
    throw new PanelRefusal(
      403,
      `Snapshots, exports and imports cover every server; your access covers ${session.ownScope} only.`,
    );
}

/**
 * Runs one write attempt: counted with the bot's per-user limits (a refusal is audited as
 * denied, channel `panel`), the reservation settled after; a committed change counted as one.
 */
export async function attempt<T>(
  deps: PanelDeps,
  session: PanelSessionDoc,
  a: { key: string; action: AuditAction },
  run: () => Promise<T>,
  commits: (result: T) => boolean = () => false,
): Promise<T> {
  let ticket: { settle(): Promise<void> };
  try {
    ticket = await deps.limits.checkAttempt(session.user.id, a);
  } catch (err) {
    if (err instanceof UserError && err.code === 'RATE_LIMITED')
      await deps.config.audit.record({
        key: a.key,
        action: a.action,
        status: 'denied',
        actor: session.user,
        ...contextOf(session),
        error: err.detail ?? err.message,
      });
    throw err;
  }
  try {
    const result = await run();
    if (commits(result)) await deps.limits.recordChange(session.user.id);
    return result;
  } finally {
    await ticket.settle();
  }
}

/**
 * What a previewed batch will write, as a short digest: each change's key, scope and the version
 * it expects, and `source` (the snapshot's name, or the file's digest). Values are left out, so a
 * sensitive one never leaves the server even hashed; the source and versions fix them anyway.
 */
export function planDigest(
  source: string,
  changes: readonly { key: string; scope: string; expectedVersion: number }[],
): string {
  const text = JSON.stringify([source, changes.map((c) => [c.key, c.scope, c.expectedVersion])]);
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** Refuses a Confirm whose preview no longer matches what would be written now. */
export function samePlan(sent: string, now: string, again: string): void {
  if (sent !== now)
    throw new UserError(
      'CONFLICT',
      `The configuration changed since the preview, so nothing was written. ${again}`,
    );
}

/** The impact of many changes at once (a restore, an import): approvals, jobs, restarts, the way back. */
export function BatchImpact({
  deps,
  changes,
}: {
  deps: PanelDeps;
  changes: readonly { key: string; scope: string; value: unknown }[];
}) {
  const { config } = deps;
  const { needed, level } = config.approvalsFor(changes.map((c) => c.key));
  const restart = [
    ...new Set(changes.filter((c) => config.definition(c.key).requiresRestart).map((c) => c.key)),
  ];
  const jobs = changes.flatMap((c) =>
    c.scope === 'global' || c.scope === `env:${config.environment}`
      ? (deps.scheduler?.forecast(c.key, c.value, 3) ?? []).map((j) => ({ key: c.key, j }))
      : [],
  );
  return (
    <dl class="tr-impact">
      <dt>Approvals</dt>
      <dd>
        {needed
          ? `Needs ${needed} approval${needed === 1 ? '' : 's'} (${level} impact): confirming makes one change request of all of it.`
          : 'Applies at once when confirmed (no key needs approvals).'}
      </dd>
      {jobs.map(({ key, j }) => (
        <>
          <dt>
            Job {j.job} ({key})
          </dt>
          <dd>
            <code>{j.before.cron}</code> →{' '}
            {'error' in j.after ? (
              <span class="error">invalid: {j.after.error}</span>
            ) : (
              <>
                <code>{j.after.cron}</code> {j.after.timezone}
              </>
            )}
          </dd>
        </>
      ))}
      {restart.length > 0 && (
        <>
          <dt>Restart</dt>
          <dd class="warn">After each process restarts: {restart.join(', ')}</dd>
        </>
      )}
      <dt>Way back</dt>
      <dd>Create a snapshot first, then restore it (or roll back each key from its history).</dd>
    </dl>
  );
}
