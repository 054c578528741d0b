import type { FastifyInstance } from 'fastify';
import type { ComponentChildren } from 'preact';
import { describeBreak, outcomeText } from '../audit/report-text.js';
import { verifyRange, type ChainReport } from '../audit/verify.js';
import { UserError } from '../base/errors.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { PanelRefusal } from './guard.js';
import { Page, Time } from './layout.js';
import { sendHtml, wantsFragment } from './render.js';
import type { PanelDeps } from './types.js';

/** The rows to check, as typed in the form (kept to redraw it). */
interface VerifyQuery {
  from: string;
  to: string;
}

const VERIFY_PATH = '/panel/audit/verify';

/** A row number typed in the form: empty for "from the first" or "to the newest". */
function placeOf(v: string, name: string): number | undefined {
  if (!v) return undefined;
  if (!/^\d{1,12}$/.test(v) || Number(v) < 1)
    throw new UserError('INVALID_VALUE', `${name} is a row number, 1 or more; leave it empty for all rows.`);
  return Number(v);
}

/**
 * The "Verify the log" form: a plain GET form that opens the check as a page, which htmx turns
 * into a fragment shown under it. On the audit page (empty) and on the check's own page (with
 * its report).
 */
export function VerifyForm({ q, children }: { q: VerifyQuery; children?: ComponentChildren }) {
  return (
    <section class="card" aria-labelledby="verify-h">
      <h2 id="verify-h">Tamper check</h2>
      <p class="hint">
        Checks every row's hash and link, gaps, rows written around the chain and every signed checkpoint, as{' '}
        <code>/config audit verify</code> and <code>npm run audit:verify</code> do.
      </p>
      <form
        class="filters"
        method="get"
        action={VERIFY_PATH}
        hx-get={VERIFY_PATH}
        hx-target="#verify-result"
        hx-swap="innerHTML"
      >
        <label>
          From row <input type="number" name="from" min={1} step={1} value={q.from} placeholder="the first" />
        </label>
        <label>
          To row <input type="number" name="to" min={1} step={1} value={q.to} placeholder="the newest" />
        </label>
        <button type="submit">Verify the log</button>
      </form>
      <div id="verify-result" aria-live="polite">
        {children}
      </div>
    </section>
  );
}

/** The report of a check: intact or altered, what was checked, when the chain began, each break. */
export function VerifyReport({
  report,
  publicKey,
}: {
  report: ChainReport;
  publicKey: { text: string; id: string } | undefined;
}) {
  const whole = report.from === 1 && report.to === report.headSeq;
  const g = report.genesis;
  return (
    <div class="hd-verify">
      <h3>
        {report.intact ? 'Audit log intact' : 'Audit log altered'}{' '}
        <span class={`hd-badge ${report.intact ? 'hd-success' : 'hd-failed'}`}>
          {report.intact ? 'intact' : `${report.breaks.length + report.moreBreaks} found`}
        </span>
      </h3>
      <dl class="rq-facts">
        <div>
          <dt>Rows checked</dt>
          <dd>
            {report.rowsChecked}{' '}
            {whole
              ? '(the whole chain)'
              : report.from > report.headSeq
                ? `(from row ${report.from}: past the chain's end at row ${report.headSeq})`
                : `(rows ${report.from}–${report.to} of ${report.headSeq})`}
            {report.legacyRows > 0 && `, ${report.legacyRows} of them written before the chain began`}
          </dd>
        </div>
        <div>
          <dt>Signed checkpoints checked</dt>
          <dd>
            {report.checkpointsChecked}
            {report.unsignedCheckpoints > 0 &&
              `, and ${report.unsignedCheckpoints} unsigned (made without a key: they prove nothing)`}
          </dd>
        </div>
        <div>
          <dt>Chain began</dt>
          <dd>
            {g ? (
              <>
                <Time at={g.at} />
                {g.legacyRows
                  ? `, sealing the ${g.legacyRows} rows written before it: an edit made to them before then would not show`
                  : ', with no earlier rows'}
              </>
            ) : (
              'not yet on this database (a bot or API process begins it at start)'
            )}
          </dd>
        </div>
        <div>
          <dt>Signing key</dt>
          <dd>
            {publicKey ? (
              <>
                <code>{publicKey.id}</code>, public key <code>{publicKey.text}</code>
              </>
            ) : (
              'none: AUDIT_SIGNING_KEY is not set, so no checkpoint is signed here'
            )}
          </dd>
        </div>
      </dl>
      {report.checkpointsChecked === 0 && (
        <p class="warn">
          No signed checkpoint was checked: a rewrite of the whole chain would not show. Set AUDIT_SIGNING_KEY
          (<code>npm run audit:verify -- --new-key</code> makes one).
        </p>
      )}
      {report.breaks.length > 0 && (
        <>
          <h4>What broke</h4>
          <ul>
            {report.breaks.map((b) => (
              <li class="hd-break">{describeBreak(b)}</li>
            ))}
            {report.moreBreaks > 0 && <li>…and {report.moreBreaks} more</li>}
          </ul>
        </>
      )}
    </div>
  );
}

export function auditVerifyRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;
  app.get<{ Querystring: Record<string, string | undefined> }>(
    VERIFY_PATH,
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      // The chain holds every server's rows, as /config audit verify (not open to self-service) checks it.
      if (session.ownScope)
        throw new PanelRefusal(
          403,
          `The check covers the audit rows of every server; your access covers ${session.ownScope} only.`,
        );
      const q: VerifyQuery = {
        from: (req.query.from ?? '').trim().slice(0, 20),
        to: (req.query.to ?? '').trim().slice(0, 20),
      };
      const row = {
        key: '*',
        action: 'audit-verify' as const,
        actor: session.user,
        ...(session.guildId ? { guildId: session.guildId } : {}),
        channelId: 'panel',
      };
      let range: { from?: number; to?: number };
      try {
        range = verifyRange(placeOf(q.from, 'From row'), placeOf(q.to, 'To row'));
      } catch (err) {
        if (err instanceof UserError)
          await config.audit.record({ ...row, status: 'failed', error: err.message });
        throw err;
      }
      const report = await config.trail.verify(range);
      await config.audit.record({
        ...row,
        status: 'success',
        newValue: outcomeText(report),
      });
      const result = <VerifyReport report={report} publicKey={config.trail.publicKey} />;
      if (wantsFragment(req.headers)) return sendHtml(reply, result, { fragment: true });
      return sendHtml(
        reply,
        <Page title="Audit log check" session={session} current="/panel/audit">
          <VerifyForm q={q}>{result}</VerifyForm>
          <p>
            <a href="/panel/audit">Back to the audit log</a>
          </p>
        </Page>,
      );
    },
  );
}
