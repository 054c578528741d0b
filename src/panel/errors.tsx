import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { UserError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import { Page } from './layout.js';
import { ErrorText } from './next-step.js';
import { PanelRefusal } from './guard.js';
import { sendHtml, wantsFragment } from './render.js';

/** The HTTP status of a user error on a panel page. */
export function statusOf(err: UserError): number {
  switch (err.code) {
    case 'UNKNOWN_KEY':
    case 'VERSION_NOT_FOUND':
      return 404;
    case 'PERMISSION_DENIED':
      return 403;
    case 'CONFLICT':
      return 409;
    case 'RATE_LIMITED':
      return 429;
    case 'UNAVAILABLE':
      return 503;
    default:
      return 400;
  }
}

/**
 * The one place a panel failure becomes a page (or, for htmx, a fragment in place of the form's
 * result): refusals and user errors in plain words, anything else an id to find the log line.
 * Never a stack trace.
 */
export function errorPage(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const fragment = wantsFragment(req.headers);
  const session = req.panelSession;
  const show = (status: number, title: string, body: preact.ComponentChildren) =>
    fragment
      ? sendHtml(
          reply,
          <p class="error" role="alert">
            {body}
          </p>,
          { status, fragment: true },
        )
      : sendHtml(
          reply,
          <Page title={title} session={session}>
            <p class="error" role="alert">
              {body}
            </p>
            {status === 401 && <LoginHelp />}
          </Page>,
          { status },
        );
  if (err instanceof PanelRefusal)
    return show(err.status, err.status === 401 ? 'Log in' : 'Not allowed', err.message);
  if (err instanceof UserError) return show(statusOf(err), 'Not done', <ErrorText err={err} />);
  const fe = err as FastifyError;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return show(fe.statusCode, 'Bad request', fe.message.replace(/^FST_[A-Z_]+:\s*/, ''));
  logger.error(`Panel ${req.method} ${req.url} failed (request ${req.id})`, errorDetail(err));
  return show(
    500,
    'Something went wrong',
    `Something went wrong on our side (request ${req.id}); it was logged.`,
  );
}

/** How to get in: the panel has no passwords, only one-time links and Discord. */
export function LoginHelp() {
  return (
    <section aria-labelledby="how">
      <h2 id="how">How to log in</h2>
      <ul>
        <li>
          In Discord, run <code>/config panel</code>: the bot answers privately with a link that logs you in
          once, within 5 minutes.
        </li>
        <li>
          Offline, run <code>npm run console -- "/config panel"</code> and open the link it prints.
        </li>
        <li>
          Without a Discord token, the link printed by <code>npm start</code> logs in the local admin.
        </li>
      </ul>
    </section>
  );
}
