import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { UserError } from '../base/errors.js';
import { preview as clip } from '../base/text.js';
import { GLOBAL } from '../config/scopes.js';
import { MAX_FILE_BYTES } from '../transfer/export-file.js';
import { parseExportFile } from '../transfer/export-parse.js';
import {
  applyImport,
  planImport,
  planLines,
  type ApplyResult,
  type ImportPlan,
} from '../transfer/import-plan.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { CsrfField, Page, Time } from './layout.js';
import { sendHtml } from './render.js';
import {
  attempt,
  BatchImpact,
  contextOf,
  field,
  planDigest,
  samePlan,
  wholeConfiguration,
} from './transfer-write.js';
import type { PanelDeps } from './types.js';

// Importing an export file from the panel, as /config import does: the file's text (a file
// input that panel.js reads into the form, or pasted) is checked entry by entry against today's
// rules, a dry run first (audited `import-check`, nothing written); Apply plans again, refuses
// if the plan moved since the dry run, and writes the valid changes through applyImport (one
// change request when a key needs approvals). A file that cannot be read changes nothing.
//
// Why a form field and not a multipart upload: the panel's forms are urlencoded already (one
// parser, one CSRF path), no new dependency, and the file is at most 1 MB of text.

type Body = Record<string, string | undefined>;
const where = (scope: string) => (scope === GLOBAL ? '' : ` at ${scope}`);
/** Room for a 1 MB file percent-encoded (up to three bytes each) and the other fields. */
const IMPORT_BODY_LIMIT = 3 * MAX_FILE_BYTES + 64 * 1024;

/** The file's text as both steps see it (browsers send a form's line breaks as CRLF). */
const fileText = (body: Body | undefined) => (body?.file ?? '').replace(/\r\n/g, '\n');
const fileName = (body: Body | undefined) => clip(field(body, 'filename') || 'pasted text', 80);
const digestOf = (text: string, plan: ImportPlan) =>
  planDigest(createHash('sha256').update(text).digest('hex'), plan.changes);

/** When the file says it was exported (undefined when that is not a date). */
const exportedAt = (plan: ImportPlan): Date | undefined => {
  const d = new Date(plan.exportedAt);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

/** The plan in one line: how many to change, unchanged, invalid, unknown, left out. */
function summary(plan: ImportPlan): string {
  const l = planLines(plan);
  return [
    `${l.changed.length} to change`,
    `${l.unchanged.length} unchanged`,
    `${l.invalid.length} invalid`,
    `${l.unknown.length} unknown`,
    ...(l.omitted.length ? [`${l.omitted.length} left out`] : []),
  ].join(', ');
}

function UploadForm({ session }: { session: PanelSessionDoc }) {
  return (
    <form method="post" action="/panel/import" class="card tr-form" data-tr-import>
      <CsrfField session={session} />
      <input type="hidden" name="filename" value="" data-tr-filename />
      <label>
        Export file
        <input type="file" accept="application/json,.json" data-tr-file aria-describedby="tr-file-hint" />
      </label>
      <span id="tr-file-hint" class="hint">
        Choosing a file puts its text below; without scripts, paste the file's text instead.
      </span>
      <label>
        The file's text (JSON)
        <textarea name="file" rows={8} required spellcheck={false} class="tr-text" />
      </label>
      <p>
        <button type="submit">Check it (dry run)</button> <span class="hint">Nothing changes yet.</span>
      </p>
    </form>
  );
}

function ImportPage({ session }: { session: PanelSessionDoc }) {
  return (
    <Page title="Import" session={session} current="/panel/export">
      <p class="hint">
        Apply a file from <a href="/panel/export">Export</a>, <code>/config export</code> or{' '}
        <code>npm run config:export</code> (at most 1 MB). Every entry is checked against today's rules and
        shown first; only then are the valid changes applied.
      </p>
      {session.access === 'write' ? (
        <UploadForm session={session} />
      ) : (
        <p>Your account may look at the configuration but not import into it.</p>
      )}
    </Page>
  );
}

/** What needs reading first: the changes, then what is refused, then the rest. */
const ORDER: Record<ImportPlan['items'][number]['status'], number> = {
  changed: 0,
  invalid: 1,
  unknown: 2,
  omitted: 3,
  unchanged: 4,
};

function PlanTable({ plan }: { plan: ImportPlan }) {
  return (
    <div class="scroll">
      <table class="sn-table tr-plan">
        <caption class="sr-only">Each entry of the file and what the import does with it</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Result</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {[...plan.items]
            .sort((a, b) => ORDER[a.status] - ORDER[b.status])
            .map((i) => (
              <tr class={`tr-${i.status}`}>
                <th scope="row">
                  <code>
                    {i.key}
                    {'scope' in i ? where(i.scope) : ''}
                  </code>
                </th>
                <td data-label="Result">
                  <span class={`tr-badge tr-badge-${i.status}`}>
                    {i.status === 'changed'
                      ? 'changes'
                      : i.status === 'invalid'
                        ? 'refused'
                        : i.status === 'omitted'
                          ? 'left out'
                          : i.status}
                  </span>
                </td>
                <td data-label="Detail">
                  {i.status === 'changed' ? (
                    <>
                      <del>{i.from}</del> → <ins>{i.to}</ins>
                    </>
                  ) : i.status === 'unchanged' ? (
                    <code>{i.shown}</code>
                  ) : i.status === 'invalid' ? (
                    i.why
                  ) : i.status === 'unknown' ? (
                    'not a setting of this bot'
                  ) : (
                    'sensitive, not in the file'
                  )}
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </div>
  );
}

function DryRunPage(p: {
  deps: PanelDeps;
  session: PanelSessionDoc;
  plan: ImportPlan;
  name: string;
  text: string;
  digest: string;
}) {
  const { plan } = p;
  const n = plan.changes.length;
  return (
    <Page title={`Dry run: import of ${p.name}`} session={p.session} current="/panel/export">
      <p role="status">
        {summary(plan)}. Exported <Time at={exportedAt(plan)} />.{' '}
        <strong>Nothing was changed (dry run).</strong>
      </p>
      <PlanTable plan={plan} />
      {n > 0 ? (
        <>
          <h2 id="impact">Impact</h2>
          <BatchImpact deps={p.deps} changes={plan.changes} />
          <form method="post" action="/panel/import/apply" class="tr-apply">
            <CsrfField session={p.session} />
            <input type="hidden" name="file" value={p.text} />
            <input type="hidden" name="filename" value={p.name} />
            <input type="hidden" name="plan" value={p.digest} />
            <p>
              <button type="submit">
                Apply {n} change{n === 1 ? '' : 's'}
              </button>{' '}
              <a href="/panel/import">Cancel</a>{' '}
              <span class="hint">The rest of the file is left as it is.</span>
            </p>
          </form>
        </>
      ) : (
        <p>
          Nothing to import. <a href="/panel/import">Check another file</a>
        </p>
      )}
    </Page>
  );
}

function ResultPage({
  session,
  name,
  results,
}: {
  session: PanelSessionDoc;
  name: string;
  results: ApplyResult[];
}) {
  const imported = results.filter((r) => r.status === 'imported').length;
  const failed = results.filter((r) => r.status === 'failed').length;
  return (
    <Page
      title={`Imported ${imported} of ${results.length} changes from ${name}`}
      session={session}
      current="/panel/export"
    >
      <p role="status" class={failed ? 'warn' : 'ok'}>
        {imported} imported · {results.filter((r) => r.status === 'unchanged').length} unchanged ·{' '}
        {results.filter((r) => r.status === 'requested').length} sent for approval · {failed} failed
      </p>
      <ul class="sn-results">
        {results.map((r) => (
          <li>
            <code>
              {r.key}
              {where(r.scope)}
            </code>
            : {r.status === 'imported' ? `imported as v${r.version}` : `${r.status}: ${r.message}`}
          </li>
        ))}
      </ul>
      {results.some((r) => r.status === 'requested') && (
        <p>
          See the <a href="/panel/requests">change requests</a>.
        </p>
      )}
    </Page>
  );
}

export function importRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;
  const write = {
    config: { access: 'public', panel: 'write', panelAction: 'import' },
    bodyLimit: IMPORT_BODY_LIMIT,
  } as const;

  /** The plan of the posted file; a file that cannot be read is audited as a failed import. */
  const planOf = async (session: PanelSessionDoc, body: Body | undefined) => {
    const text = fileText(body);
    try {
      if (!text.trim())
        throw new UserError('INVALID_VALUE', 'Choose a file or paste its text. Nothing was changed.');
      return { text, plan: await planImport(config, parseExportFile(text)) };
    } catch (err) {
      if (err instanceof UserError)
        await config.audit.record({
          key: '*',
          action: 'import',
          status: 'failed',
          actor: session.user,
          ...contextOf(session),
          error: err.message,
        });
      throw err;
    }
  };

  app.get('/panel/import', { config: { access: 'public', panel: 'read' } }, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    wholeConfiguration(session);
    return sendHtml(reply, <ImportPage session={session} />);
  });

  app.post<{ Body: Body }>('/panel/import', write, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    wholeConfiguration(session);
    const name = fileName(req.body);
    const { text, plan } = await attempt(deps, session, { key: '*', action: 'import' }, () =>
      planOf(session, req.body),
    );
    await config.audit.record({
      key: '*',
      action: 'import-check',
      status: 'success',
      actor: session.user,
      ...contextOf(session),
      reason: `dry run: ${name}: ${summary(plan)}`,
    });
    return sendHtml(
      reply,
      <DryRunPage
        deps={deps}
        session={session}
        plan={plan}
        name={name}
        text={text}
        digest={digestOf(text, plan)}
      />,
    );
  });

  app.post<{ Body: Body }>('/panel/import/apply', write, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    wholeConfiguration(session);
    const name = fileName(req.body);
    const results = await attempt(
      deps,
      session,
      { key: '*', action: 'import' },
      async () => {
        const { text, plan } = await planOf(session, req.body);
        samePlan(
          field(req.body, 'plan'),
          digestOf(text, plan),
          'Check the file again to see what it would do now.',
        );
        const reason = `import of ${name} (exported ${plan.exportedAt})`;
        return applyImport(config, plan.changes, session.user, reason, contextOf(session));
      },
      (r) => r.some((x) => x.status === 'imported'),
    );
    return sendHtml(reply, <ResultPage session={session} name={name} results={results} />);
  });
}
