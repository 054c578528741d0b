import type { FastifyInstance } from 'fastify';
import { isUserError } from '../base/errors.js';
import { preview as clip } from '../base/text.js';
import { GLOBAL, parseScope, type Scope } from '../config/scopes.js';
import { MAX_REASON_LENGTH } from '../config/validate.js';
import { applyPlannedChanges, type ChangeResult } from '../transfer/snapshot-apply.js';
import { planRestore, type RestorePlan } from '../transfer/snapshot-plan.js';
import { Snapshots, snapshotKey } from '../transfer/snapshots.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { CsrfField, Page } from './layout.js';
import { sendHtml } from './render.js';
import {
  attempt,
  BatchImpact,
  contextOf,
  field,
  planDigest,
  samePlan,
  snapshotHref,
  wholeConfiguration,
} from './transfer-write.js';
import type { PanelDeps } from './types.js';

// Restoring a snapshot from the panel, as /config snapshot restore does: a preview of every
// change (nothing written), then Confirm, which plans again, refuses if the plan moved since the
// preview, and writes through applyPlannedChanges (one change request when a key needs
// approvals). Audited with channel `panel`, counted with the bot's limits.

type Body = Record<string, string | undefined>;
const where = (key: string, scope: Scope) => (scope === GLOBAL ? key : `${key} · ${scope}`);

/** The reason each restored version carries: it names the snapshot. */
function restoreReason(name: string, typed: string): string {
  const base = `Restored from snapshot ${clip(name, 64)}`;
  return (typed ? `${base}: ${typed}` : base).slice(0, MAX_REASON_LENGTH);
}

function PreviewPage({
  deps,
  session,
  plan,
  digest,
}: {
  deps: PanelDeps;
  session: PanelSessionDoc;
  plan: RestorePlan;
  digest: string;
}) {
  const name = plan.snapshot;
  const title = plan.target ? `Apply snapshot ${name} to ${plan.target}?` : `Restore snapshot ${name}?`;
  return (
    <Page title={title} session={session} current="/panel/snapshots">
      {plan.changes.length === 0 ? (
        <p class="ok">Every value of snapshot {name} is already in place: nothing to restore.</p>
      ) : (
        <p>
          {plan.changes.length} {plan.changes.length === 1 ? 'value changes' : 'values change'}, each as a new
          version (action restore).
          {plan.target && ` Only the snapshot's global values are written, at ${plan.target}.`}
        </p>
      )}
      {plan.changes.length > 0 && (
        <div class="scroll">
          <table class="sn-table sn-diff">
            <caption class="sr-only">What changes</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Now</th>
                <th scope="col">After the restore</th>
              </tr>
            </thead>
            <tbody>
              {plan.changes.map((c) => (
                <tr>
                  <th scope="row">
                    <code>{where(c.key, c.scope)}</code>
                  </th>
                  <td data-label="Now">
                    <del>{c.from}</del>
                  </td>
                  <td data-label="After">
                    <ins>{c.to}</ins>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="hint">{plan.unchanged} already at the snapshot's value.</p>
      {plan.skipped.length > 0 && (
        <section aria-labelledby="skipped">
          <h2 id="skipped">Skipped ({plan.skipped.length})</h2>
          <ul>
            {plan.skipped.map((s) => (
              <li>
                <code>{where(s.key, s.scope)}</code>: {s.why}
              </li>
            ))}
          </ul>
        </section>
      )}
      {plan.kept.length > 0 && (
        <section aria-labelledby="kept">
          <h2 id="kept">Not in the snapshot, left as they are ({plan.kept.length})</h2>
          <p>
            {plan.kept.map((k) => (
              <>
                <code>{where(k.key, k.scope)}</code>{' '}
              </>
            ))}
          </p>
          <p class="hint">Remove one with Reset from its history.</p>
        </section>
      )}
      {plan.changes.length > 0 && (
        <>
          <h2 id="impact">Impact</h2>
          <BatchImpact deps={deps} changes={plan.changes} />
          <p>Nothing has changed yet.</p>
          <form method="post" action={`${snapshotHref(name)}/restore/confirm`} class="sn-confirm">
            <CsrfField session={session} />
            <input type="hidden" name="to" value={plan.target ?? ''} />
            <input type="hidden" name="plan" value={digest} />
            <label>
              Why (kept in each version and the audit log)
              <textarea name="reason" rows={2} maxlength={MAX_REASON_LENGTH} />
            </label>
            <p>
              <button type="submit">Confirm the restore</button> <a href={snapshotHref(name)}>Cancel</a>
            </p>
          </form>
        </>
      )}
    </Page>
  );
}

function tally(results: readonly ChangeResult[], unchangedBefore: number) {
  const count = (s: ChangeResult['status']) => results.filter((r) => r.status === s).length;
  return {
    restored: count('restored'),
    unchanged: unchangedBefore + count('unchanged'),
    refused: count('refused'),
    requested: count('requested'),
    requests: [...new Set(results.flatMap((r) => (r.status === 'requested' ? [r.request] : [])))],
  };
}

function ResultPage({
  session,
  name,
  results,
  counts,
}: {
  session: PanelSessionDoc;
  name: string;
  results: ChangeResult[];
  counts: ReturnType<typeof tally>;
}) {
  return (
    <Page
      title={counts.restored ? `Restored snapshot ${name}` : `Nothing restored from snapshot ${name}`}
      session={session}
      current="/panel/snapshots"
    >
      <p role="status" class={counts.refused ? 'warn' : 'ok'}>
        {counts.restored} restored · {counts.unchanged} unchanged · {counts.refused} refused
      </p>
      {counts.requests.map((id) => (
        <p>
          {counts.requested} need approval: <a href={`/panel/requests/${id}`}>change request {id}</a>.
        </p>
      ))}
      {counts.refused > 0 && (
        <p class="hint">Refused keys were left as they are; preview the restore again to see them now.</p>
      )}
      <ul class="sn-results">
        {results.map((r) => (
          <li>
            <code>{where(r.key, r.scope)}</code>:{' '}
            {r.status === 'restored'
              ? `restored as v${r.version}`
              : r.status === 'unchanged'
                ? "already at the snapshot's value"
                : r.status === 'requested'
                  ? `needs approval (change request ${r.request})`
                  : `refused: ${r.why}`}
          </li>
        ))}
      </ul>
      <p>
        <a href={snapshotHref(name)}>Back to snapshot {name}</a>
      </p>
    </Page>
  );
}

export function restoreRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;
  const route = { config: { access: 'public', panel: 'write', panelAction: 'snapshot-restore' } } as const;
  type Req = { Params: { snapshot: string }; Body: Body };

  /** The plan of a restore as of now; a refusal (no such snapshot, a bad scope) audited as failed. */
  const planOf = async (session: PanelSessionDoc, name: string, body: Body) => {
    try {
      const snapshots = new Snapshots(config);
      const toText = field(body, 'to');
      const target = toText
        ? parseScope(toText, {
            key: 'snapshot',
            allowed: ['global', 'env', 'guild'],
            environments: config.environments,
          })
        : null;
      const doc = await snapshots.get(name);
      const plan = planRestore(config, doc._id, snapshots.open(doc), await snapshots.now(), target);
      return { plan, digest: planDigest(`${doc._id}>${target ?? ''}`, plan.changes) };
    } catch (err) {
      await config.audit.record({
        key: snapshotKey(name),
        action: 'snapshot-restore',
        status: 'failed',
        actor: session.user,
        reason: restoreReason(name, field(body, 'reason')),
        error: isUserError(err) ? err.message : 'internal error (logged)',
        ...contextOf(session),
      });
      throw err;
    }
  };

  app.post<Req>('/panel/snapshots/:snapshot/restore', route, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    wholeConfiguration(session);
    const name = req.params.snapshot;
    const { plan, digest } = await attempt(
      deps,
      session,
      { key: snapshotKey(name), action: 'snapshot-restore' },
      () => planOf(session, name, req.body),
    );
    return sendHtml(reply, <PreviewPage deps={deps} session={session} plan={plan} digest={digest} />);
  });

  app.post<Req>('/panel/snapshots/:snapshot/restore/confirm', route, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    wholeConfiguration(session);
    const name = req.params.snapshot;
    const reason = restoreReason(name, field(req.body, 'reason'));
    const done = await attempt(
      deps,
      session,
      { key: snapshotKey(name), action: 'snapshot-restore' },
      async () => {
        const { plan, digest } = await planOf(session, name, req.body);
        samePlan(field(req.body, 'plan'), digest, 'Preview the restore again to see what it would do now.');
        const changes = plan.changes.map(({ key, scope, value, expectedVersion }) => ({
          key,
          scope,
          value,
          expectedVersion,
        }));
        const results = await applyPlannedChanges(config, changes, session.user, reason, contextOf(session));
        const counts = tally(results, plan.unchanged);
        await config.audit.record({
          key: snapshotKey(plan.snapshot),
          ...(plan.target ? { scope: plan.target } : {}),
          action: 'snapshot-restore',
          status: counts.refused && !counts.restored ? 'failed' : 'success',
          actor: session.user,
          reason,
          newValue: counts,
          ...contextOf(session),
        });
        return { name: plan.snapshot, results, counts };
      },
      (r) => r.counts.restored > 0,
    );
    return sendHtml(reply, <ResultPage session={session} {...done} />);
  });
}
