import type { FastifyInstance } from 'fastify';
import type { Instance } from '../changes/instances.js';
import type { JobStatus } from '../jobs/types.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { propagationOf, type Propagation } from './dashboard-data.js';
import { duration, PropagationTable } from './dashboard-tables.js';
import { Page, Time } from './layout.js';
import { sendHtml, wantsFragment } from './render.js';
import type { PanelDeps } from './types.js';

/** Recent changes whose propagation the page shows. */
const CHANGES_SHOWN = 20;

export interface ProcessesData {
  now: Date;
  head: number;
  position: number;
  instances: Instance[];
  propagation: Propagation[];
  pendingRestart: string[];
  /** This process's scheduled jobs (none in a process that runs no jobs). */
  jobs: JobStatus[];
}

/**
 * GET /panel/processes: the processes following the configuration (what each applied against the
 * log's head), which of them applied each recent change and how fast, and the keys waiting for a
 * restart. Follows every change live (htmx asks for the fragment).
 */
export function processRoutes(app: FastifyInstance, deps: PanelDeps): void {
  app.get('/panel/processes', { config: { access: 'public', panel: 'read' } }, async (req, reply) => {
    const [head, instances, propagation] = await Promise.all([
      deps.config.changes.head(),
      deps.instances.list(),
      propagationOf(deps, CHANGES_SHOWN),
    ]);
    const data: ProcessesData = {
      now: new Date(),
      head,
      position: deps.feed.position,
      instances,
      propagation,
      pendingRestart: deps.config.pendingRestart(),
      jobs: deps.scheduler?.status() ?? [],
    };
    if (wantsFragment(req.headers)) return sendHtml(reply, <ProcessesLive data={data} />, { fragment: true });
    const session = req.panelSession as PanelSessionDoc;
    return sendHtml(
      reply,
      <Page title="Processes" session={session} current="/panel/processes">
        <p class="hint">
          Every bot and API process reports which changes of the log it has applied. This page follows changes
          as they are made.
        </p>
        <ProcessesLive data={data} />
      </Page>,
    );
  });
}

export function ProcessesLive({ data }: { data: ProcessesData }) {
  return (
    <div id="pr-live" data-live-any="" data-live-src="/panel/processes">
      <section class="card" aria-labelledby="pr-list-h">
        <h2 id="pr-list-h">Processes</h2>
        <p>
          The change log is at #{data.head}; this process applied #{data.position}.
        </p>
        <ProcessTable data={data} />
      </section>
      <section class="card" aria-labelledby="pr-restart-h">
        <h2 id="pr-restart-h">Waiting for a restart</h2>
        {data.pendingRestart.length === 0 ? (
          <p>Nothing: every change this process applied is in effect.</p>
        ) : (
          <>
            <p>Changed since this process started; they take effect once each process restarts:</p>
            <ul class="pr-keys">
              {data.pendingRestart.map((k) => (
                <li>
                  <a href={`/panel/history/${k}`}>
                    <code>{k}</code>
                  </a>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <section class="card" aria-labelledby="pr-jobs-h">
        <h2 id="pr-jobs-h">Scheduled jobs of this process</h2>
        <JobTable jobs={data.jobs} />
      </section>
      <section class="card" aria-labelledby="pr-prop-h">
        <h2 id="pr-prop-h">Recent changes: who applied them, how fast</h2>
        <PropagationTable rows={data.propagation} />
      </section>
    </div>
  );
}

function ProcessTable({ data }: { data: ProcessesData }) {
  if (!data.instances.length) return <p>No process reports itself.</p>;
  return (
    <div class="scroll">
      <table class="db-stack pr-table">
        <thead>
          <tr>
            <th scope="col">Process</th>
            <th scope="col">State</th>
            <th scope="col">Version</th>
            <th scope="col">Started</th>
            <th scope="col">Last seen</th>
            <th scope="col">Applied</th>
            <th scope="col">Lag</th>
          </tr>
        </thead>
        <tbody>
          {data.instances.map((i) => {
            const behind = Math.max(0, data.head - i.applied);
            return (
              <tr>
                <th scope="row">
                  <code>{i.name ?? i.id}</code> ({i.kind})
                  <p class="hint">{`${i.host ?? '?'} · pid ${i.pid ?? '?'}`}</p>
                </th>
                <td class={i.state === 'live' ? 'ok' : 'error'} data-label="State">
                  {i.state}
                </td>
                <td data-label="Version">{i.version ?? '?'}</td>
                <td data-label="Started">
                  <Time at={i.startedAt} />
                  {i.state === 'live' && (
                    <p class="hint">up {duration(data.now.getTime() - i.startedAt.getTime())}</p>
                  )}
                </td>
                <td data-label="Last seen">
                  <Time at={i.lastSeen} />
                </td>
                <td data-label="Applied">
                  #{i.applied} of #{data.head}
                </td>
                <td data-label="Lag" class={i.state === 'live' && behind > 0 ? 'warn' : undefined}>
                  {i.state !== 'live'
                    ? '–'
                    : behind === 0
                      ? 'up to date'
                      : `${behind} change${behind === 1 ? '' : 's'} behind`}
                  {i.state === 'live' && i.appliedAt && (
                    <p class="hint">
                      last applied <Time at={i.appliedAt} />
                    </p>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The jobs as /config status shows them: schedule, next run, last run, and runs since start. */
export function JobTable({ jobs }: { jobs: JobStatus[] }) {
  if (jobs.length === 0) return <p>This process runs no scheduled jobs (the bot and `npm run api` do).</p>;
  return (
    <div class="scroll">
      <table class="pr-jobs">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Schedule</th>
            <th scope="col">Next run</th>
            <th scope="col">Last run</th>
            <th scope="col">Since start</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr>
              <th scope="row">
                {j.name}
                <p class="hint">{j.description}</p>
              </th>
              <td data-label="Schedule">
                <code>{j.cron}</code> <span class="hint">({j.timezone})</span>
              </td>
              <td data-label="Next run">
                {j.paused ? 'paused (MAINTENANCE_MODE)' : j.running ? 'running now' : <Time at={j.nextRun} />}
              </td>
              <td data-label="Last run">
                {j.lastRun ? (
                  <>
                    {j.lastRun.status}, <Time at={j.lastRun.startedAt} />
                    {j.lastRun.error && <p class="error">{j.lastRun.error}</p>}
                    {j.lastRun.summary && <p class="hint">{j.lastRun.summary}</p>}
                  </>
                ) : (
                  'none since this process started'
                )}
              </td>
              <td data-label="Since start">
                {j.completed} completed, {j.failed} failed, {j.ranElsewhere} run by another process
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
