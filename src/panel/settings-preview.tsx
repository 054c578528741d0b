import type { ChangeRequest } from '../approvals/requests.js';
import type { Impact } from '../approvals/impact.js';
import { formatDuration } from '../config/kinds.js';
import type { ScheduledChange, WriteSuccess } from '../config/types.js';
import { Time } from './layout.js';
import { ImpactList } from './impact.js';

/** When the change happens, as the preview read it from `for` and `at`. */
export interface Timing {
  forMs?: number | undefined;
  at?: Date | undefined;
}

/**
 * The dry run of a set, as Discord's shows it (environments before and after, warnings, jobs'
 * next runs, restart, processes, approvals, way back), with the Apply button. The button and
 * the fields it adds belong to the edit form around it, so Apply sends what was previewed.
 */
export function PreviewView(props: {
  impact: Impact;
  timing: Timing;
  timeZone: string;
  expectedVersion: number;
  digest: string;
  confirm: string | undefined;
}) {
  const { impact, timing } = props;
  const k = impact.key;
  const at = impact.scope === 'global' ? '' : ` at ${impact.scope}`;
  return (
    <section class="preview card" aria-labelledby={`preview-${k}`}>
      <h3 id={`preview-${k}`}>
        Preview: {k}
        {at}
      </h3>
      <p>
        <code>{impact.before}</code> → <code>{impact.after}</code>
      </p>
      {timing.at && (
        <p>
          Scheduled: applies at <Time at={timing.at} /> ({props.timeZone})
          {timing.forMs !== undefined && <>, then holds for {formatDuration(timing.forMs)}</>}.
        </p>
      )}
      {!timing.at && timing.forMs !== undefined && (
        <p>Temporary: for {formatDuration(timing.forMs)}, then the value it replaced comes back.</p>
      )}
      {impact.warnings.length > 0 && (
        <ul class="warn" aria-label="Warnings">
          {impact.warnings.map((w) => (
            <li>⚠ {w}</li>
          ))}
        </ul>
      )}
      <ImpactList impact={impact} />
      <p class="hint">Nothing is changed until you apply it.</p>
      <input type="hidden" name="expectedVersion" value={String(props.expectedVersion)} />
      <input type="hidden" name="digest" value={props.digest} />
      {props.confirm && (
        <p class="confirm">
          <input type="checkbox" id={`confirm-${k}`} name="confirm" value="yes" required />{' '}
          <label for={`confirm-${k}`}>{props.confirm}</label>
        </p>
      )}
      <button
        type="submit"
        formaction={`/panel/settings/${k}/apply`}
        hx-post={`/panel/settings/${k}/apply`}
        hx-target="closest tr"
        hx-swap="outerHTML"
      >
        Apply
      </button>
    </section>
  );
}

/** A committed set: the new version and value (masked if sensitive), and what follows. */
export function WrittenView({
  result,
  shown,
  restart,
}: {
  result: WriteSuccess;
  shown: string;
  restart: boolean;
}) {
  const at = result.scope === 'global' ? '' : ` at ${result.scope}`;
  return (
    <div class="card" role="status">
      <p class="ok">
        Saved: {result.key}
        {at} is now <code>{shown}</code> (version {result.version}).
      </p>
      {result.until && (
        <p>
          Temporary: until <Time at={result.until.at} />, then <code>{result.until.then}</code>.
        </p>
      )}
      {restart && <p>Takes effect after each process restarts.</p>}
      <Warnings list={result.warnings} />
    </div>
  );
}

/** A change stored to happen later. */
export function ScheduledView({ planned }: { planned: ScheduledChange }) {
  const at = planned.scope === 'global' ? '' : ` at ${planned.scope}`;
  return (
    <div class="card" role="status">
      <p class="ok">
        Scheduled (id {planned.id}): {planned.key}
        {at} becomes <code>{planned.display}</code> at <Time at={planned.runAt} />
        {planned.thenForMs !== undefined && <>, for {formatDuration(planned.thenForMs)}</>}.
      </p>
      <p class="hint">It is listed under the value until then, with Cancel.</p>
      <Warnings list={planned.warnings} />
    </div>
  );
}

/** A change that needs approvals: nothing applied, a change request made. */
export function ApprovalView({ request, message }: { request: ChangeRequest; message: string }) {
  return (
    <div class="card" role="status">
      <p class="warn">Approval needed: change request {request.id}</p>
      <p>{message}</p>
    </div>
  );
}

function Warnings({ list }: { list: readonly string[] }) {
  if (!list.length) return null;
  return (
    <ul class="warn" aria-label="Warnings">
      {list.map((w) => (
        <li>⚠ {w}</li>
      ))}
    </ul>
  );
}
