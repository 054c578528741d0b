import type { FlagErrorResult, WireFlags, WireSnapshot } from '../wire.js';
import { isFields, readFlags, readValue } from './read-wire.js';

/**
 * A refusal retrying cannot fix (401/403 bad or insufficient token, 400/404 a wrong env, guild
 * or key, a snapshot without a requested key): the client stops and reports it instead of
 * retrying forever.
 */
export class ConfigClientFatalError extends Error {
  override readonly name = 'ConfigClientFatalError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** A failure worth retrying: network error, timeout, 408/429/5xx, an unexpected answer. */
export class ConfigClientUnavailableError extends Error {
  override readonly name = 'ConfigClientUnavailableError';
}

export interface HttpOptions {
  url: string;
  token: string;
  env?: string;
  guild?: string;
  keys?: readonly string[];
  requestTimeoutMs: number;
  fetch: typeof fetch;
}

/** The few requests the client makes, with the token and the classification of failures. */
export class ConfigHttp {
  private readonly base: URL;

  constructor(private readonly options: HttpOptions) {
    const url = options.url.endsWith('/') ? options.url : `${options.url}/`;
    this.base = new URL(url);
  }

  get origin(): string {
    return this.base.href;
  }

  /**
   * `GET /v1/config`. The server answers every key (it does not filter by `keys`); a requested key
   * it lacks is refused as `/v1/events` refuses it (404), since retrying cannot bring it.
   */
  async snapshot(signal: AbortSignal): Promise<WireSnapshot> {
    return this.timed(signal, async (limit) => {
      const res = await this.send(this.url('v1/config', false), { headers: this.headers() }, signal, limit);
      const snapshot = readSnapshot(await res.json());
      if (typeof snapshot === 'string')
        throw new ConfigClientUnavailableError(`GET /v1/config answered ${snapshot}`);
      const missing = (this.options.keys ?? []).filter((key) => !Object.hasOwn(snapshot.values, key));
      if (missing.length)
        throw new ConfigClientFatalError(
          `The configuration API has no key ${missing.join(', ')} (GET /v1/config); check the client's keys`,
          404,
          'UNKNOWN_KEY',
        );
      return snapshot;
    });
  }

  /**
   * `GET /v1/flags`: the flags, with the definitions it could not read (left out, to warn about);
   * undefined when the API has no flags route (404: an API older than flags).
   */
  async flags(signal: AbortSignal): Promise<{ flags: WireFlags; skipped: string[] } | undefined> {
    return this.timed(signal, async (limit) => {
      let res: Response;
      try {
        res = await this.send(this.url('v1/flags', false), { headers: this.headers() }, signal, limit);
      } catch (err) {
        if (err instanceof ConfigClientFatalError && err.status === 404) return undefined;
        throw err;
      }
      const read = readFlags(await res.json());
      if (typeof read === 'string') throw new ConfigClientUnavailableError(`GET /v1/flags answered ${read}`);
      return read;
    });
  }

  /** `POST /v1/flags/:name/errors`: counts `count` errors against a flag (the automatic kill). */
  async flagErrors(name: string, count: number, signal: AbortSignal): Promise<FlagErrorResult> {
    const init = {
      method: 'POST',
      headers: { ...this.headers(), 'content-type': 'application/json' },
      body: JSON.stringify({ count }),
    };
    return this.timed(signal, async (limit) => {
      const url = new URL(`v1/flags/${encodeURIComponent(name)}/errors`, this.base);
      const res = await this.send(url, init, signal, limit);
      const body: unknown = await res.json();
      if (!isFields(body) || typeof body.killed !== 'boolean' || !Number.isSafeInteger(body.version))
        throw new ConfigClientUnavailableError(`POST ${url.pathname} answered something unexpected`);
      return body as unknown as FlagErrorResult;
    });
  }

  /** Opens `/v1/events` after `lastEventId`; the caller reads the body until the stream ends. */
  async events(lastEventId: number, signal: AbortSignal): Promise<Response> {
    const headers = {
      ...this.headers(),
      accept: 'text/event-stream',
      'cache-control': 'no-cache',
      'last-event-id': String(lastEventId),
    };
    // No request timeout: the stream stays open; the caller's idle watchdog aborts a silent one.
    const res = await this.send(this.url('v1/events', true), { headers }, signal, signal);
    if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
      await res.body?.cancel().catch(() => undefined);
      throw new ConfigClientUnavailableError('GET /v1/events did not answer with an event stream');
    }
    return res;
  }

  async report(body: object, signal: AbortSignal): Promise<void> {
    const init = {
      method: 'POST',
      headers: { ...this.headers(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    };
    await this.timed(signal, async (limit) => {
      const res = await this.send(new URL('v1/instances/report', this.base), init, signal, limit);
      await res.body?.cancel().catch(() => undefined);
    });
  }

  /** Runs a request (body included) under the request timeout, with its timer cleared after. */
  private async timed<T>(signal: AbortSignal, run: (limit: AbortSignal) => Promise<T>): Promise<T> {
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DOMException('The request timed out', 'TimeoutError')),
      this.options.requestTimeoutMs,
    );
    timer.unref();
    try {
      return await run(AbortSignal.any([signal, timeout.signal]));
    } finally {
      clearTimeout(timer);
    }
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.options.token}` };
  }

  private url(path: string, withKeys: boolean): URL {
    const url = new URL(path, this.base);
    const { env, guild, keys } = this.options;
    if (withKeys && keys?.length) url.searchParams.set('keys', keys.join(','));
    if (env) url.searchParams.set('env', env);
    if (guild) url.searchParams.set('guild', guild);
    return url;
  }

  /** `signal` is the client's (closed: not a failure), `limit` adds the request timeout. */
  private async send(
    url: URL,
    init: RequestInit,
    signal: AbortSignal,
    limit: AbortSignal,
  ): Promise<Response> {
    const what = `${init.method ?? 'GET'} ${url.pathname}`;
    let res: Response;
    try {
      res = await this.options.fetch(url, { ...init, signal: limit });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new ConfigClientUnavailableError(`${what}: ${networkReason(err)}`, { cause: err });
    }
    if (res.ok) return res;
    const { code, message } = await errorBody(res);
    const detail = `${what} answered ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
    if (res.status === 401 || res.status === 403)
      throw new ConfigClientFatalError(
        `The configuration API refused the token (${detail}); check the token the client is given`,
        res.status,
        code,
      );
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
      throw new ConfigClientFatalError(
        `The configuration API refused the request (${detail}); check the client's url, env, guild and keys`,
        res.status,
        code,
      );
    throw new ConfigClientUnavailableError(detail);
  }
}

async function errorBody(res: Response): Promise<{ code?: string; message?: string }> {
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof body.error?.code === 'string' ? body.error.code : undefined;
    const message = typeof body.error?.message === 'string' ? body.error.message : undefined;
    return { ...(code ? { code } : {}), ...(message ? { message } : {}) };
  } catch {
    // Not the API's JSON error (a proxy's HTML page): the status says enough.
    return {};
  }
}

/** A snapshot as the API sends it, or what is wrong with it. */
function readSnapshot(body: unknown): WireSnapshot | string {
  if (typeof body !== 'object' || body === null) return 'something other than a JSON object';
  const { seq, environment, guild, values } = body as Record<string, unknown>;
  if (!Number.isSafeInteger(seq)) return 'without a numeric seq';
  if (typeof environment !== 'string' || (guild !== null && typeof guild !== 'string'))
    return 'without its environment and guild';
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return 'without values';
  const read: WireSnapshot['values'] = {};
  for (const [key, data] of Object.entries(values)) {
    const value = readValue(data);
    if (typeof value === 'string') return `a malformed value for ${key} (${value})`;
    read[key] = value;
  }
  return { seq: seq as number, environment, guild, values: read };
}

/** What to say about a failure: the client's own errors as they are, others by their cause. */
export function errorReason(err: unknown): string {
  return err instanceof Error && err.name.startsWith('ConfigClient') ? err.message : networkReason(err);
}

/** `fetch failed` says nothing; its cause says `connect ECONNREFUSED 10.0.0.5:3000`, ENOTFOUND... */
export function networkReason(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.message === 'string' && cause.message) {
    const code =
      typeof cause.code === 'string' && !cause.message.includes(cause.code) ? ` (${cause.code})` : '';
    return `${cause.message}${code}`;
  }
  if (typeof cause?.code === 'string') return cause.code;
  return err instanceof Error ? err.message : String(err);
}
