import type { NextStep, UserError } from '../base/errors.js';

/** What to do next, as a request to this API (or, for what only Discord does, where). */
function nextStep(next: NextStep): string {
  switch (next.to) {
    case 'list-keys':
      return 'GET /v1/config lists every key.';
    case 'reset':
      return `To remove it, POST /v1/config/${next.key}/reset with {"scope":"${next.scope}"}.`;
    case 'view-request':
      return `Review request ${next.id} in Discord (/config request view) before approving it.`;
    case 'list-requests':
      return 'Change requests are listed in Discord (/config requests).';
    case 'list-snapshots':
      return 'Snapshots are listed in Discord (/config snapshot list).';
    case 'list-flags':
      return 'GET /v1/flags lists them.';
    case 'view-flag':
      return `GET /v1/flags/${next.name} shows it.`;
    case 'flag-history':
      return `Its versions are listed in Discord (/flag history name:${next.name}).`;
  }
}

/** A user error as the API answers it: what happened, then what to do next with this API. */
export function errorText(err: UserError): string {
  return err.next ? `${err.message} ${nextStep(err.next)}` : err.message;
}
