import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../config/models.js';
import { isUnavailableError } from '../db/connection.js';
import { DatabaseUnavailableError } from '../errors.js';
import { errorDetail } from '../logger.js';
import { GLOBAL, type Scope } from '../config/scopes.js';
import { ApiError } from './errors.js';
import type { ApiToken, TokenStore } from './tokens.js';
import { WindowCounter } from './window.js';

/** What a route needs, declared in its `config.access` and enforced once by the auth hook. */
export type RouteAccess = 'public' | 'read' | 'write';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** For a write route: what it does, for the audit row of a refused attempt. */
    action?: 'set' | 'rollback' | 'reset';
  }
  interface FastifyRequest {
    /** The token that authenticated the request (every route but the public ones has one). */
    token?: ApiToken;
  }
}

/** How long a verified token is trusted without a lookup (revocation takes effect within it). */
export const VERIFIED_FOR_MS = 5000;

const UNAUTHORIZED =
  'A valid API token is required: send `Authorization: Bearer cfgbot_…` (create one with /config token create).';

export interface AuthOptions {
  tokens: TokenStore;
  /** Requests one token may make per minute. */
  perToken: number;
  /** Requests with a bad or missing token one address may make per minute. */
  failuresPerAddress: number;
  /** Called when a token is refused a write route (audited by the caller). */
  onDenied?: (req: FastifyRequest, token: ApiToken, message: string) => void;
}

/**
 * The onRequest hook: public routes pass; others need a live token (401, the same answer for
 * missing, malformed, unknown and revoked ones), the write access when the route writes (403),
 * and to be within the token's and the address's rates (429).
 */
export function authenticator(opts: AuthOptions) {
  const failures = new WindowCounter(opts.failuresPerAddress);
  const requests = new WindowCounter(opts.perToken);
  // Good tokens are remembered briefly (by hash, never the text): a busy client costs no lookup
  // per request, and a revoked token is refused everywhere within VERIFIED_FOR_MS.
  const recent = new Map<string, { token: ApiToken; until: number }>();
  /** Looks a token up (`stale`: what was remembered of it, served through an outage). */
  const lookup = async (
    raw: string,
    id: string,
    stale: ApiToken | undefined,
  ): Promise<ApiToken | undefined> => {
    let token: ApiToken | undefined;
    try {
      token = await opts.tokens.verify(raw);
    } catch (err) {
      if (!isUnavailableError(err)) throw err;
      // Reads are served from memory through an outage: so are the tokens seen before it.
      if (stale) return stale;
      throw new DatabaseUnavailableError(
        String(errorDetail(err).error),
        'Database unavailable: this token cannot be checked right now. Try again in a moment.',
      );
    }
    if (recent.size > 10_000) recent.clear();
    if (token) recent.set(id, { token, until: Date.now() + VERIFIED_FOR_MS });
    else recent.delete(id);
    return token;
  };
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // Every route declares its access (buildApi refuses one that does not); what matches no
    // route is answered 404 by anyone.
    const access = req.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    const limited = () =>
      new ApiError(
        429,
        'RATE_LIMITED',
        'Too many requests with a bad token from this address; wait a minute.',
        {
          'retry-after': String(failures.retryAfter()),
        },
      );
    const header = req.headers.authorization;
    const raw = /^bearer /i.test(header ?? '') ? header?.slice(7).trim() : undefined;
    const id = raw ? createHash('sha256').update(raw).digest('hex') : undefined;
    const hit = id ? recent.get(id) : undefined;
    const fresh = hit && hit.until > Date.now() ? hit.token : undefined;
    // A token checked a moment ago passes even from an address that others flood with bad ones
    // (a NAT, a proxy): only unknown tokens wait out the address's limit.
    if (!fresh && failures.blocked(req.ip)) throw limited();
    const token = fresh ?? (raw && id ? await lookup(raw, id, hit?.token) : undefined);
    if (!token) {
      if (!failures.hit(req.ip)) throw limited();
      void reply.header('www-authenticate', 'Bearer');
      throw new ApiError(401, 'UNAUTHORIZED', UNAUTHORIZED);
    }
    if (!requests.hit(token.id))
      throw new ApiError(
        429,
        'RATE_LIMITED',
        `Token ${token.name} is over its ${opts.perToken} requests a minute; slow down.`,
        {
          'retry-after': String(requests.retryAfter()),
        },
      );
    if (access === 'write' && token.access !== 'write') {
      const message = `Token ${token.name} can only read; changes need a write token.`;
      opts.onDenied?.(req, token, message);
      throw new ApiError(403, 'FORBIDDEN', message);
    }
    opts.tokens.touch(token.id);
    req.token = token;
  };
}

/** The token of an authenticated request (routes other than public ones always have one). */
export function tokenOf(req: FastifyRequest): ApiToken {
  if (!req.token) throw new ApiError(401, 'UNAUTHORIZED', UNAUTHORIZED);
  return req.token;
}

/** Who a change made with this token is recorded as. */
export function actorOf(token: ApiToken): Actor {
  return { id: `token:${token.id}`, tag: `api token ${token.name}` };
}

/**
 * The environment and server a read is for: a token limited to one of them reads that one (and
 * is refused any other); an unlimited token reads what was asked, else this process's environment.
 */
export function readTarget(
  token: ApiToken,
  asked: { env?: string | undefined; guild?: string | undefined },
  environments: readonly string[],
  fallbackEnv: string,
): { environment: string; guildId: string | undefined } {
  const limit = token.scope;
  let environment = asked.env ?? fallbackEnv;
  let guildId = asked.guild;
  if (limit?.startsWith('env:')) {
    const own = limit.slice(4);
    if (asked.env && asked.env !== own) throw notCovered(token, `env:${asked.env}`);
    if (asked.guild) throw notCovered(token, `guild:${asked.guild}`);
    environment = own;
  }
  if (limit?.startsWith('guild:')) {
    const own = limit.slice(6);
    if (asked.guild && asked.guild !== own) throw notCovered(token, `guild:${asked.guild}`);
    guildId = own;
  }
  if (!environments.includes(environment))
    throw new ApiError(
      400,
      'VALIDATION',
      `Unknown environment ${environment}: use one of ${environments.join(', ')} (ENVIRONMENTS).`,
    );
  return { environment, guildId };
}

/** Whether a token may read (history) or write the values at `scope`. */
export function checkScope(token: ApiToken, scope: Scope, mode: 'read' | 'write'): void {
  const limit = token.scope;
  if (!limit || limit === GLOBAL || scope === limit) return;
  // A limited token reads the layers its own scope inherits from; it writes its own scope only.
  if (mode === 'read' && (scope === GLOBAL || (limit.startsWith('guild:') && scope.startsWith('env:'))))
    return;
  throw notCovered(token, scope);
}

function notCovered(token: ApiToken, scope: string): ApiError {
  return new ApiError(
    403,
    'FORBIDDEN',
    `Token ${token.name} is limited to ${token.scope ?? 'global'}; it does not cover ${scope}.`,
  );
}
