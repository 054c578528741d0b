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
        <span>
          Review <a href={`/panel/requests/${next.id}`}>change request {next.id}</a> before approving it.
        </span>
      );
    case 'list-requests':
      return (
        <span>
          The <a href="/panel/requests">change requests page</a> lists them.
        </span>
      );
    case 'list-snapshots':
      return (
        <span>
          The <a href="/panel/snapshots">snapshots page</a> lists them.
        </span>
      );
    case 'list-flags':
      return (
        <span>
          The <a href="/panel/flags">flags page</a> lists every flag.
        </span>
      );
    case 'view-flag':
      return (
        <span>
          See <a href={`/panel/flags/${next.name}`}>{next.name}</a>.
        </span>
      );
    case 'flag-history':
      return (
        <span>
          Its versions are on <a href={`/panel/flags/${next.name}#versions`}>its page</a>.
        </span>
      );
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
