import type { NextStep, UserError } from '../base/errors.js';

/** What to do next, as a link in the panel (or, for what only Discord does yet, where). */
function NextStepLink({ next }: { next: NextStep }) {
  switch (next.to) {
    case 'list-keys':
      return (
        <span>
          The <a href="/panel">settings page</a> lists every key.
        </span>
      );
    case 'reset':
      return (
        <span>
          To remove it, reset {next.key} at {next.scope} from its{' '}
          <a href={`/panel/history/${next.key}`}>history</a>.
        </span>
      );
    case 'view-request':
      return (
        <span>Review change request {next.id} before approving it (/config request view in Discord).</span>
      );
    case 'list-requests':
      return <span>Change requests are listed in Discord (/config requests).</span>;
    case 'list-snapshots':
      return <span>Snapshots are listed in Discord (/config snapshot list).</span>;
    case 'list-flags':
      return <span>Flags are listed in Discord (/flag list).</span>;
    case 'view-flag':
      return <span>Discord shows it: /flag view name:{next.name}.</span>;
    case 'flag-history':
      return <span>Its versions are listed in Discord (/flag history name:{next.name}).</span>;
  }
}

/** A user error as the panel shows it: what happened, then what to do next, in the panel. */
export function ErrorText({ err }: { err: UserError }) {
  return (
    <>
      {err.message} {err.next && <NextStepLink next={err.next} />}
    </>
  );
}
