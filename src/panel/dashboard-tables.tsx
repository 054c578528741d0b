import type { ComponentChildren } from 'preact';
import { type Health, type OpenRequest, type Propagation } from './dashboard-data.js';
import { Time } from './layout.js';

// The dashboards' cards that are tables: propagation, open requests, database and processes.

/** A duration in the largest two units that matter: `45 s`, `3 min`, `2 h 5 min`, `3 d 4 h`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** One card of the dashboards under its heading; `wide` spans the grid's full width. */
export function Card({
  id,
  title,
  children,
  wide,
}: {
  id: string;
  title: string;
  children: ComponentChildren;
  wide?: boolean;
}) {
  return (
    <section class={wide ? 'card db-card db-wide' : 'card db-card'} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function PropagationTable({ rows }: { rows: Propagation[] }) {
  if (!rows.length) return <p>No change has been committed yet.</p>;
  return (
    <div class="scroll">
      <table class="db-stack">
        <thead>
          <tr>
            <th scope="col">Change</th>
            <th scope="col">When</th>
            <th scope="col">Applied by</th>
            <th scope="col">Slowest</th>
            <th scope="col">Not yet</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => {
            const lags = p.applied.map((a) => a.lagMs).filter((l): l is number => l !== undefined);
            return (
              <tr>
                <th scope="row">
                  <code>{p.key}</code> v{p.version}
                  <p class="hint">
                    {p.scope} · {p.action ?? 'change'}
                    {p.by ? ` by ${p.by}` : ''} · #{p.seq}
                  </p>
                </th>
                <td data-label="When">
                  <Time at={p.at} />
                </td>
                <td data-label="Applied by">
                  {p.applied.length} of {p.live}
                  <p class="hint">
                    {p.applied
                      .map((a) => `${a.name}${a.lagMs === undefined ? '' : ` ${a.lagMs} ms`}`)
                      .join(', ')}
                  </p>
                </td>
                <td class="db-num" data-label="Slowest">
                  {lags.length ? `${Math.max(...lags)} ms` : '–'}
                </td>
                <td data-label="Not yet">{p.waiting.length ? p.waiting.join(', ') : 'none'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function RequestsTable({ rows }: { rows: OpenRequest[] }) {
  if (!rows.length) return <p>No change request is open.</p>;
  return (
    <div class="scroll">
      <table class="db-stack">
        <thead>
          <tr>
            <th scope="col">Request</th>
            <th scope="col">Keys</th>
            <th scope="col">Approvals</th>
            <th scope="col">Open for</th>
            <th scope="col">Expires</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <th scope="row">
                <a href={`/panel/requests/${r.id}`}>{r.id}</a>
                <p class="hint">
                  {r.kind} by {r.requester}
                </p>
              </th>
              <td data-label="Keys">{r.keys.join(', ')}</td>
              <td class="db-num" data-label="Approvals">
                {r.approvals} of {r.required}
              </td>
              <td data-label="Open for">
                {duration(r.ageMs)}
                <p class="hint">
                  since <Time at={r.createdAt} />
                </p>
              </td>
              <td data-label="Expires">
                <Time at={r.expiresAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function HealthCard({ h }: { h: Health }) {
  const behind = h.head === undefined ? undefined : Math.max(0, h.head - h.position);
  return (
    <Card id="health" title="Database and processes">
      <dl class="db-facts">
        <dt>Database</dt>
        <dd class={h.database === 'connected' ? 'ok' : 'error'}>
          {h.database === 'connected' ? 'connected' : 'unavailable'}
          {h.outageSince && (
            <>
              {' '}
              since <Time at={h.outageSince} />
            </>
          )}
          {h.roundTripMs !== undefined && ` · one read took ${h.roundTripMs} ms`}
        </dd>
        <dt>This process</dt>
        <dd>
          applied #{h.position}
          {behind !== undefined && (behind === 0 ? ', up to date' : `, ${behind} behind the log`)} · started
          from the {h.startedFrom}
        </dd>
        <dt>Audit rows waiting</dt>
        <dd>{h.auditQueued}</dd>
        <dt>Values it cannot decrypt</dt>
        <dd>{h.undecryptable}</dd>
      </dl>
      {h.instances.length === 0 ? (
        <p>No process reports itself.</p>
      ) : (
        <div class="scroll">
          <table class="db-stack">
            <thead>
              <tr>
                <th scope="col">Process</th>
                <th scope="col">State</th>
                <th scope="col">Applied</th>
                <th scope="col">Last seen</th>
                <th scope="col">Version</th>
              </tr>
            </thead>
            <tbody>
              {h.instances.map((i) => {
                const late = h.head === undefined ? 0 : h.head - i.applied;
                return (
                  <tr>
                    <th scope="row">
                      {i.name ?? i.id} ({i.kind})
                      <p class="hint">{`${i.host ?? '?'} · pid ${i.pid ?? '?'}`}</p>
                    </th>
                    <td class={i.state === 'live' ? 'ok' : 'error'} data-label="State">
                      {i.state}
                    </td>
                    <td data-label="Applied">
                      #{i.applied}
                      {i.state === 'live' && (late > 0 ? ` (${late} behind)` : ' (up to date)')}
                    </td>
                    <td data-label="Last seen">
                      <Time at={i.lastSeen} />
                    </td>
                    <td data-label="Version">{i.version ?? '?'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
