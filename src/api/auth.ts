import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../storage/config-models.js';
import { GLOBAL, type Scope } from '../config/scopes.js';
import { ApiError } from './errors.js';
import type { ActiveTokens } from './active-tokens.js';
import type { ApiToken } from '../tokens/tokens.js';
import { WindowCounter } from './window.js';
import type { TokenWriteLimit } from './write-limit.js';

/** What a route needs, declared in its `config.access` and enforced once by the auth hook. */
export type RouteAccess = 'public' | 'read' | 'write';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** For a write route: what it does, for the audit row of a refused attempt. */
    action?: 'set' | 'rollback' | 'reset' | 'create';
  }
  interface FastifyRequest {
    /** The token that authenticated the request (every route but the public ones has one). */
    token?: ApiToken;
  }
}

/**
 * How long after a revocation (or expiry) anywhere every process refuses the token, its open
 * streams included: ActiveTokens reads the tokens again well within it.
 */
export const REVOKED_WITHIN_MS = 5000;

const UNAUTHORIZED =
  'A valid API token is required: send `Authorization: Bearer cfgbot_…` (create one with /config token create).';

export interface AuthOptions {
  tokens: ActiveTokens;
  /** Requests one token may make per minute. */
  perToken: number;
  /** Requests with a bad or missing token one address may make per minute. */
  failuresPerAddress: number;
  /** Write requests one token may make per minute, across processes (API_WRITES_PER_MIN). */
  writes?: TokenWriteLimit;
  /** Called when a token is refused a write route (audited by the caller). */
  onDenied?: (req: FastifyRequest, token: ApiToken, message: string) => void;
}

/**
 * The onRequest hook: public routes pass; others need a live token (401, the same answer for
 * missing, malformed, unknown, revoked and expired ones), the write access when the route writes
 * (403), and to be within the token's rate and, for a write, its write limit (429). Failures are
 * limited per address (429 once past the limit), but a valid token is never refused for its
 * address: one misconfigured client behind a proxy must not lock out every other client behind it.
 */
export function authenticator(opts: AuthOptions) {
  const failures = new WindowCounter(opts.failuresPerAddress);
  const requests = new WindowCounter(opts.perToken);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // Every route declares its access (buildApi refuses one that does not); what matches no
    // route is answered 404 by anyone.
    const access = req.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    const header = req.headers.authorization;
    const raw = /^bearer /i.test(header ?? '') ? header?.slice(7).trim() : undefined;
    // Checked in memory (ActiveTokens), so checking a token from a flooded address costs nothing.
    const token = raw ? await opts.tokens.verify(raw) : undefined;
    if (!token) {
      if (!failures.hit(req.ip))
        throw new ApiError(
          429,
          'RATE_LIMITED',
          'Too many requests with a bad token from this address; wait a minute. Requests with a valid token are still answered.',
          { 'retry-after': String(failures.retryAfter()) },
        );
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
    if (access === 'write' && opts.writes) {
      try {
        await opts.writes.count(token);
      } catch (err) {
        // A refused write is audited like any other refusal of one.
        if (err instanceof ApiError) opts.onDenied?.(req, token, err.message);
        throw err;
      }
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
