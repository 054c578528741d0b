import type { Impact } from '../approvals/impact.js';
import { Time } from './layout.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * What a change would do, as /config set dry-run:true says it: per environment, jobs' next runs,
 * restart, processes, approvals, and (unless the page is the way back itself) the way back. Used
 * by every preview of the panel (settings, rollback, reset).
 */
export function ImpactList({ impact, wayBack = true }: { impact: Impact; wayBack?: boolean }) {
  return (
    <dl class="impact">
      <dt>Per environment</dt>
      <dd>
        <ul>
          {impact.environments.map((e) => (
            <li>
              {e.environment}: <code>{e.before}</code>
              {e.before !== e.after && (
                <>
                  {' '}
                  → <code>{e.after}</code>
                </>
              )}
              {e.note && <span class="hint"> ({e.note})</span>}
            </li>
          ))}
          {impact.serverOverrides > 0 && (
            <li>{plural(impact.serverOverrides, 'server override')} keep their own value</li>
          )}
        </ul>
      </dd>
      {impact.jobs.map((j) => (
        <>
          <dt>Job {j.job}: next runs</dt>
          <dd>
            Now <code>{j.before.cron}</code> {j.before.timezone}:{' '}
            {j.before.next.map((d, n) => (
              <>
                {n > 0 && ', '}
                <Time at={d} />
              </>
            ))}
            <br />
            Then{' '}
            {'error' in j.after ? (
              <span class="error">invalid: {j.after.error}</span>
            ) : (
              <>
                <code>{j.after.cron}</code> {j.after.timezone}:{' '}
                {j.after.next.map((d, n) => (
                  <>
                    {n > 0 && ', '}
                    <Time at={d} />
                  </>
                ))}
              </>
            )}
          </dd>
        </>
      ))}
      <dt>Restart</dt>
      <dd>{impact.restart ? 'Needed: takes effect after each process restarts.' : 'Not needed.'}</dd>
      <dt>Picked up by</dt>
      <dd>
        {impact.processes.live
          ? `${plural(impact.processes.live, 'live process')}: ${impact.processes.names.join(', ')}`
          : 'No process reports itself (each one still applies it).'}
      </dd>
      <dt>Approvals</dt>
      <dd>
        {impact.approvals.needed
          ? `${impact.approvals.level} impact: needs ${plural(impact.approvals.needed, 'approval')} (becomes a change request)`
          : `${impact.approvals.level} impact: applies at once`}
      </dd>
      {wayBack && <dt>Way back</dt>}
      {wayBack && (
        <dd>
          From the key's <a href={`/panel/history/${impact.key}`}>history</a>, or in Discord:{' '}
          <code>{impact.rollback}</code>
        </dd>
      )}
    </dl>
  );
}
