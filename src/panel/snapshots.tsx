import type { FastifyInstance } from 'fastify';
import { GLOBAL, type Scope } from '../config/scopes.js';
import { diffSlots, shown, type DiffLine } from '../transfer/snapshot-plan.js';
import {
  MAX_DESCRIPTION_LENGTH,
  Snapshots,
  snapshotKey,
  type SlotSet,
  type SnapshotDoc,
  type SnapshotSummary,
} from '../transfer/snapshots.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { CsrfField, Page, Time } from './layout.js';
import { sendHtml, wantsFragment } from './render.js';
import { attempt, contextOf, field, snapshotHref, wholeConfiguration } from './transfer-write.js';
import type { PanelDeps } from './types.js';
import { restoreRoutes } from './snapshot-restore.js';

// Snapshots in the panel: the list, one snapshot's values, its diff with now or another
// snapshot, and creating one, through the same Snapshots calls as /config snapshot (audited,
// channel `panel`). Restoring one is in snapshot-restore.tsx.

const where = (key: string, scope: Scope) => (scope === GLOBAL ? key : `${key} · ${scope}`);
const canWrite = (s: PanelSessionDoc) => s.access === 'write' && !s.ownScope;

const unknownNote = (set: SlotSet) =>
  set.unknownKeys ? `${set.unknownKeys} values of keys no longer registered are left out.` : '';

function CreateForm({ session }: { session: PanelSessionDoc }) {
  return (
    <form method="post" action="/panel/snapshots" class="card sn-create">
      <h2 id="create">Take a snapshot</h2>
      <CsrfField session={session} />
      <label>
        Name
        <input
          name="name"
          required
          minlength={2}
          maxlength={64}
          pattern="[a-z0-9]+(-[a-z0-9]+)*"
          placeholder="before-migration"
          aria-describedby="sn-name-hint"
        />
      </label>
      <span id="sn-name-hint" class="hint">
        2-64 lower-case letters, digits and single dashes. A snapshot never changes afterwards.
      </span>
      <label>
        Description (optional)
        <input name="description" maxlength={MAX_DESCRIPTION_LENGTH} />
      </label>
      <p>
        <button type="submit">Create snapshot</button>
      </p>
    </form>
  );
}

function ListPage({ session, all }: { session: PanelSessionDoc; all: SnapshotSummary[] }) {
  return (
    <Page title="Snapshots" session={session} current="/panel/snapshots">
      <p class="hint">
        A snapshot records every value in every scope under a name. Compare one with now, or restore it (a
        preview first). Sensitive values are never shown.
      </p>
      {all.length === 0 ? (
        <p>No snapshots yet.</p>
      ) : (
        <div class="scroll">
          <table class="sn-table">
            <caption class="sr-only">Snapshots, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Values</th>
                <th scope="col">Taken</th>
                <th scope="col">By</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {all.map((s) => (
                <tr>
                  <th scope="row">
                    <a href={snapshotHref(s._id)}>{s._id}</a>
                  </th>
                  <td data-label="Values">{s.count}</td>
                  <td data-label="Taken">
                    <Time at={s.createdAt} />
                  </td>
                  <td data-label="By">{s.createdBy.tag}</td>
                  <td data-label="Description">{s.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite(session) && <CreateForm session={session} />}
    </Page>
  );
}

function ViewPage({
  session,
  doc,
  set,
  created,
  others,
}: {
  session: PanelSessionDoc;
  doc: SnapshotDoc;
  set: SlotSet;
  created: boolean;
  others: string[];
}) {
  return (
    <Page title={`Snapshot ${doc._id}`} session={session} current="/panel/snapshots">
      {created && (
        <p class="ok" role="status">
          Snapshot {doc._id} created: {doc.values.length} values recorded.
        </p>
      )}
      <p class="hint">
        Taken by {doc.createdBy.tag} on <Time at={doc.createdAt} /> · {doc.values.length} values.{' '}
        {unknownNote(set)}
      </p>
      {doc.description && <p>{doc.description}</p>}
      <form method="get" action={`${snapshotHref(doc._id)}/diff`} class="filters sn-actions">
        <label>
          Compare with
          <select name="against">
            <option value="now">now (current values)</option>
            {others.map((o) => (
              <option value={o}>snapshot {o}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="secondary">
          Show differences
        </button>
      </form>
      {canWrite(session) && (
        <form method="post" action={`${snapshotHref(doc._id)}/restore`} class="card sn-restore">
          <h2 id="restore">Restore</h2>
          <CsrfField session={session} />
          <label>
            Into (optional: write the snapshot's global values into one scope instead)
            <input name="to" maxlength={40} placeholder="global, env:staging, guild:<server id>" />
          </label>
          <p>
            <button type="submit">Preview the restore</button> <span class="hint">Nothing changes yet.</span>
          </p>
        </form>
      )}
      <h2 id="values">Values</h2>
      <div class="scroll">
        <table class="sn-table">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Version</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {[...set.slots.values()].map((v) => (
              <tr>
                <th scope="row">
                  <code>{where(v.key, v.scope)}</code>
                </th>
                <td data-label="Version">v{v.version}</td>
                <td data-label="Value">
                  <code>{shown(v)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Page>
  );
}

/** The rows of a diff: each slot that differs, what each side holds (masked when sensitive). */
export function DiffTable({ lines, older, newer }: { lines: DiffLine[]; older: string; newer: string }) {
  return (
    <div class="scroll">
      <table class="sn-table sn-diff">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">{older}</th>
            <th scope="col">{newer}</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((l) => (
            <tr>
              <th scope="row">
                <code>{where(l.key, l.scope)}</code>
              </th>
              <td data-label={older}>
                {l.old ? <del>{shown(l.old)}</del> : <span class="hint">(none)</span>}
              </td>
              <td data-label={newer}>
                {l.new ? <ins>{shown(l.new)}</ins> : <span class="hint">(none)</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function snapshotRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const read = { config: { access: 'public', panel: 'read' } } as const;
  type One = { Params: { snapshot: string }; Querystring: Record<string, string | undefined> };

  app.get('/panel/snapshots', read, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    wholeConfiguration(session);
    const all = await new Snapshots(deps.config).list();
    return sendHtml(reply, <ListPage session={session} all={all} />);
  });

  app.post<{ Body: Record<string, string | undefined> }>(
    '/panel/snapshots',
    { config: { access: 'public', panel: 'write', panelAction: 'snapshot-create' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      wholeConfiguration(session);
      const name = field(req.body, 'name');
      const summary = await attempt(
        deps,
        session,
        { key: snapshotKey(name), action: 'snapshot-create' },
        () =>
          new Snapshots(deps.config).create(
            name,
            field(req.body, 'description') || null,
            session.user,
            contextOf(session),
          ),
        () => true,
      );
      return reply.redirect(`${snapshotHref(summary._id)}?created=1`, 303);
    },
  );

  app.get<One>('/panel/snapshots/:snapshot', read, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    wholeConfiguration(session);
    const snapshots = new Snapshots(deps.config);
    const doc = await snapshots.get(req.params.snapshot);
    const others = (await snapshots.list()).map((s) => s._id).filter((n) => n !== doc._id);
    return sendHtml(
      reply,
      <ViewPage
        session={session}
        doc={doc}
        set={snapshots.open(doc)}
        created={req.query.created === '1'}
        others={others}
      />,
    );
  });

  app.get<One>('/panel/snapshots/:snapshot/diff', read, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    wholeConfiguration(session);
    const snapshots = new Snapshots(deps.config);
    const doc = await snapshots.get(req.params.snapshot);
    const againstText = req.query.against?.trim().toLowerCase() || 'now';
    const other = againstText === 'now' ? undefined : await snapshots.get(againstText);
    // Older on the left: a snapshot against now, or two snapshots in the order they were taken.
    const [older, newer, olderName, newerName] =
      other && other.createdAt < doc.createdAt
        ? [snapshots.open(other), snapshots.open(doc), other._id, doc._id]
        : [
            snapshots.open(doc),
            other ? snapshots.open(other) : await snapshots.now(),
            doc._id,
            other?._id ?? 'now',
          ];
    const { lines, same } = diffSlots(older, newer);
    const body = (
      <section aria-labelledby="sn-diff-title">
        <h2 id="sn-diff-title">
          {olderName} → {newerName}
        </h2>
        <p>
          {lines.length} different · {same} the same. {unknownNote(older)} {unknownNote(newer)}
        </p>
        {lines.length === 0 ? (
          <p class="ok">No differences: every value in every scope is the same.</p>
        ) : (
          <DiffTable lines={lines} older={olderName} newer={newerName} />
        )}
      </section>
    );
    if (wantsFragment(req.headers)) return sendHtml(reply, body, { fragment: true });
    return sendHtml(
      reply,
      <Page title={`Snapshot ${doc._id}: differences`} session={session} current="/panel/snapshots">
        <p>
          <a href={snapshotHref(doc._id)}>Back to snapshot {doc._id}</a>
        </p>
        {body}
      </Page>,
    );
  });

  restoreRoutes(app, deps);
}
