/**
 * What the user can do next, as data: each surface says it its own way (a slash command in
 * Discord, a route on the HTTP API), so no domain error names one surface's commands.
 */
export type NextStep =
  | { to: 'list-keys' }
  | { to: 'reset'; key: string; scope: string }
  | { to: 'view-request'; id: string }
  | { to: 'list-requests' }
  | { to: 'list-snapshots' }
  | { to: 'list-flags' }
  | { to: 'view-flag'; name: string }
  | { to: 'flag-history'; name: string };

/**
 * Errors a user can act on. `code` is stable (tests and callers switch on it), `message` is the
 * plain text of what happened (no markup, no surface's commands), `next` what to do about it
 * (rendered by the surface that shows the error), `detail` is for the log only.
 */
export type UserErrorCode =
  | 'INVALID_KEY'
  | 'UNKNOWN_KEY'
  | 'INVALID_VALUE'
  | 'TOO_LONG'
  | 'UNCHANGED'
  | 'VERSION_NOT_FOUND'
  | 'CONFLICT'
  | 'UNAVAILABLE'
  | 'PERMISSION_DENIED'
  | 'RATE_LIMITED'
  | 'ENCRYPTION_REQUIRED'
  | 'RULE_VIOLATION'
  | 'APPROVAL_REQUIRED';

export class UserError extends Error {
  constructor(
    readonly code: UserErrorCode,
    message: string,
    readonly context: Record<string, unknown> = {},
    readonly detail?: string,
    readonly next?: NextStep,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export const isUserError = (err: unknown): err is UserError => err instanceof UserError;

/** Raised when the database cannot be reached; writes that raise it changed nothing unless `detail` says so. */
export class DatabaseUnavailableError extends UserError {
  constructor(detail: string, message = 'Database unavailable, nothing was changed. Try again in a moment.') {
    super('UNAVAILABLE', message, {}, detail);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * A process cannot start, for a reason its operator can fix (an unreachable database with no
 * last-known-good copy, a stored value no configured key decrypts). The message is one plain line
 * that names what to fix; entry points print it without a stack.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}
