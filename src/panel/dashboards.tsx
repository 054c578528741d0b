import type { FastifyInstance } from 'fastify';
import type { ComponentChildren } from 'preact';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { BarChart, ColumnChart, ShareBar } from './charts.js';
import { CHANGE_DAYS, dashboardData, type DashboardData, type Figure } from './dashboard-data.js';
import { Card, HealthCard, PropagationTable, RequestsTable } from './dashboard-tables.js';
import { Page, Time } from './layout.js';
import { sendHtml, wantsFragment } from './render.js';
import type { PanelDeps } from './types.js';

/** A figure that could not be read says so; the rest of the page stands. */
function Shown<T>({ figure, children }: { figure: Figure<T>; children: (value: T) => ComponentChildren }) {
  return figure.ok ? <>{children(figure.value)}</> : <p role="alert">{figure.why}</p>;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function ChangesCard({ d }: { d: DashboardData }) {
  return (
    <Card id="changes" title="Changes over time">
      <Shown figure={d.changes}>
        {(c) => {
          const total = sum(c.series.flatMap((s) => s.values));
          const busiest = c.series.map((s) => `${s.name} ${sum(s.values)}`).join(', ');
          return (
            <>
              <ColumnChart
                id="changes-chart"
                title={`Committed changes per day and environment, last ${CHANGE_DAYS} days (UTC)`}
                summary={`${total} change${total === 1 ? '' : 's'} in ${CHANGE_DAYS} days: ${busiest}.`}
                data={c}
                rowHead="Day"
                empty={`No change was committed in the last ${CHANGE_DAYS} days.`}
              />
              {c.capped && (
                <p class="hint">More changes than the first 1000 read: the oldest are not counted.</p>
              )}
            </>
          );
        }}
      </Shown>
    </Card>
  );
}

function ChangersCard({ d }: { d: DashboardData }) {
  return (
    <Card id="changers" title="Top changers">
      <Shown figure={d.changers}>
        {(c) => (
          <BarChart
            id="changers-chart"
            title={`Changes committed and attempts denied or failed, per person, last ${CHANGE_DAYS} days`}
            summary={c.rows
              .slice(0, 3)
              .map((r) => `${r.actor.tag}: ${r.committed} committed, ${r.denied} denied, ${r.failed} failed`)
              .join('; ')}
            data={{
              labels: c.rows.map((r) => r.actor.tag),
              series: [
                { name: 'committed', values: c.rows.map((r) => r.committed) },
                { name: 'denied', values: c.rows.map((r) => r.denied) },
                { name: 'failed', values: c.rows.map((r) => r.failed) },
              ],
            }}
            rowHead="Who"
            empty="Nobody changed anything or was refused in this period."
          />
        )}
      </Shown>
    </Card>
  );
}

function RestartsCard({ keys }: { keys: string[] }) {
  return (
    <Card id="restarts" title="Pending restarts">
      {keys.length === 0 ? (
        <p>No change is waiting for a restart of this process.</p>
      ) : (
        <>
          <p>
            {keys.length} key{keys.length === 1 ? ' was' : 's were'} changed but take
            {keys.length === 1 ? 's' : ''} effect only when this process restarts:
          </p>
          <ul class="db-keys">
            {keys.map((k) => (
              <li>
                <a href={`/panel/history/${k}`}>
                  <code>{k}</code>
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </Card>
  );
}

function ReadsCard({ d }: { d: DashboardData }) {
  const { cache, reads } = d;
  return (
    <Card id="reads" title="Reads and cache">
      <ShareBar share={cache.hitRate} label="Cache hit ratio" />
      <p class="hint">
        {cache.hits} hits, {cache.misses} misses, {cache.keys} values held in this process
        {cache.lastRefresh ? (
          <>
            ; refreshed <Time at={cache.lastRefresh} />
          </>
        ) : null}
        .
      </p>
      <BarChart
        id="reads-chart"
        title="Most-read keys: reads served by this process's API since it started"
        summary={reads
          .slice(0, 3)
          .map((r) => `${r.key} ${r.reads}`)
          .join(', ')}
        data={{
          labels: reads.map((r) => r.key),
          series: [{ name: 'reads', values: reads.map((r) => r.reads) }],
        }}
        rowHead="Key"
        empty="No key has been read in this process yet."
      />
    </Card>
  );
}

function FlagsCard({ d }: { d: DashboardData }) {
  const said = (label: string) => (s: { series: { name: string; values: number[] }[] }) => {
    const total = sum(s.series.flatMap((x) => x.values));
    const top = s.series.slice(0, 3).map((x) => `${x.name} ${sum(x.values)}`);
    return `${total} evaluation${total === 1 ? '' : 's'} ${label}${top.length ? `: ${top.join(', ')}` : ''}.`;
  };
  return (
    <Card id="flags" title="Flag evaluations" wide>
      <p class="hint">Every process and application, by the reason of the outcome; times in UTC.</p>
      <div class="db-pair">
        <Shown figure={d.flagsDay}>
          {(s) => (
            <ColumnChart
              id="flags-day"
              title="Per hour, last 24 hours"
              summary={said('in 24 hours')(s)}
              data={s}
              rowHead="Hour"
              empty="No flag was evaluated in the last 24 hours."
            />
          )}
        </Shown>
        <Shown figure={d.flagsWeek}>
          {(s) => (
            <ColumnChart
              id="flags-week"
              title="Per day, last 7 days"
              summary={said('in 7 days')(s)}
              data={s}
              rowHead="Day"
              empty="No flag was evaluated in the last 7 days."
            />
          )}
        </Shown>
      </div>
    </Card>
  );
}

/** Every card; fetched again (as a fragment) when a change is committed anywhere, see panel.js. */
export function DashboardCards({ d }: { d: DashboardData }) {
  return (
    <div id="db-live" data-live-any="" data-live-src="/panel/dashboards">
      <p class="hint">
        Figures as of <Time at={d.now} />, from the database and this process; they follow changes as they are
        made.
      </p>
      <div class="db-grid">
        <ChangesCard d={d} />
        <ChangersCard d={d} />
        <Card id="propagation" title="Propagation of recent changes" wide>
          <Shown figure={d.propagation}>{(rows) => <PropagationTable rows={rows} />}</Shown>
        </Card>
        <RestartsCard keys={d.pendingRestart} />
        <Card id="requests" title="Open change requests">
          <Shown figure={d.requests}>{(rows) => <RequestsTable rows={rows} />}</Shown>
        </Card>
        <ReadsCard d={d} />
        <HealthCard h={d.health} />
        <FlagsCard d={d} />
      </div>
    </div>
  );
}

export function DashboardsPage({ d, session }: { d: DashboardData; session: PanelSessionDoc }) {
  return (
    <Page title="Dashboards" session={session} current="/panel/dashboards">
      <DashboardCards d={d} />
    </Page>
  );
}

/**
 * A self-service admin sees the figures of every server together, but not other servers' ids
 * (as its live stream leaves out their overrides).
 */
function forViewer(d: DashboardData, session: PanelSessionDoc): DashboardData {
  if (!session.ownScope || !d.propagation.ok) return d;
  const own = session.ownScope;
  const rows = d.propagation.value.map((p) =>
    p.scope.startsWith('guild:') && p.scope !== own ? { ...p, scope: 'another server' } : p,
  );
  return { ...d, propagation: { ok: true, value: rows } };
}

export function dashboardRoutes(app: FastifyInstance, deps: PanelDeps): void {
  app.get('/panel/dashboards', { config: { access: 'public', panel: 'read' } }, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    const d = forViewer(await dashboardData(deps), session);
    if (wantsFragment(req.headers)) return sendHtml(reply, <DashboardCards d={d} />, { fragment: true });
    return sendHtml(reply, <DashboardsPage d={d} session={session} />);
  });
}
