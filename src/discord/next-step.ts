import type { NextStep, UserError } from '../base/errors.js';

/** What to do next, as a slash command. */
function nextStep(next: NextStep): string {
  switch (next.to) {
    case 'list-keys':
      return 'Use /config list to see every key.';
    case 'reset':
      return `To remove it, use /config reset setting:${next.key} scope:${next.scope}.`;
    case 'view-request':
      return `Review it with /config request view id:${next.id}.`;
    case 'list-requests':
      return '/config requests lists them.';
    case 'list-snapshots':
      return '/config snapshot list shows them.';
    case 'list-flags':
      return '/flag list shows them.';
    case 'view-flag':
      return `See it with /flag view name:${next.name}.`;
    case 'flag-history':
      return `Its versions: /flag history name:${next.name}.`;
  }
}

/** A user error as Discord shows it: what happened, then what to do next in Discord's terms. */
export function errorText(err: UserError): string {
  return err.next ? `${err.message} ${nextStep(err.next)}` : err.message;
}
