import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { PanelLogins, PanelSessionDoc } from '../tokens/panel-logins.js';
import type { PanelRequirement } from './types.js';

/** The cookie that holds a panel session's id. */
export const SESSION_COOKIE = 'panel_session';

/** Why a panel request was refused; the error page says it in plain words. */
export class PanelRefusal extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
    /** Set when a logged-in user lacked the access: the refusal is audited as denied, as in Discord. */
    readonly deniedTo?: PanelSessionDoc,
  ) {
    super(message);
    this.name = 'PanelRefusal';
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one check of every panel request, from its route's declared requirement: a live session
 * with the access it needs, and for anything that changes state a same-origin request (Origin
 * and Sec-Fetch-Site) carrying the session's form token. Returns the session, if any.
 */
export async function guard(
  req: FastifyRequest,
  required: PanelRequirement,
  logins: PanelLogins,
  opts: {
    origin: string;
    localAdmin: boolean;
    recheck?:
      | ((
          guildId: string,
          userId: string,
          selfService: boolean,
        ) => Promise<'none' | 'read' | 'write' | undefined>)
      | undefined;
  },
): Promise<PanelSessionDoc | undefined> {
  const changesState = !SAFE_METHODS.has(req.method);
  if (changesState) checkOrigin(req, opts.origin);
  const found = await logins.session(req.cookies[SESSION_COOKIE]);
  // The local admin exists only while Discord is not connected; once it is, only Discord users log in.
  const session = found?.via === 'local' && !opts.localAdmin ? undefined : found;
  if (required === 'none') return session;
  if (!session) throw new PanelRefusal(401, 'You are not logged in, or your session ended.');
  if (changesState) checkFormToken(req, session);
  if (required === 'write' && session.access !== 'write')
    throw new PanelRefusal(403, 'Your account may look at the configuration but not change it.', session);
  // Access is the bot's rule as it is now: checked again with Discord on every write.
  if (required === 'write' && session.guildId && opts.recheck) {
    const now = await opts.recheck(session.guildId, session.user.id, session.ownScope !== null);
    if (now === 'none' || now === 'read')
      throw new PanelRefusal(
        403,
        now === 'none'
          ? 'You are no longer a member of an allowed server, so you cannot change anything here.'
          : 'You no longer have an admin role or the Administrator permission, so you cannot change anything here.',
        session,
      );
  }
  return session;
}

/** A cross-site request is refused before anything else is looked at. */
function checkOrigin(req: FastifyRequest, origin: string): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin')
    throw new PanelRefusal(
      403,
      'This request came from another site, so it was refused and nothing changed.',
    );
  const from = req.headers.origin ?? refererOrigin(req.headers.referer);
  if (from !== origin && from !== hostOrigin(req))
    throw new PanelRefusal(
      403,
      'This request did not come from the panel, so it was refused and nothing changed.',
    );
}

function checkFormToken(req: FastifyRequest, session: PanelSessionDoc): void {
  const header = req.headers['x-csrf-token'];
  const field = (req.body as { _csrf?: unknown } | undefined)?._csrf;
  const sent = typeof header === 'string' ? header : typeof field === 'string' ? field : '';
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrf);
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new PanelRefusal(
      403,
      'This form has expired or did not come from the panel; reload the page and try again.',
    );
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/** The origin the browser used to reach this server (PANEL_URL may name another, e.g. behind a proxy). */
function hostOrigin(req: FastifyRequest): string | undefined {
  return req.headers.host ? `${req.protocol}://${req.headers.host}` : undefined;
}
