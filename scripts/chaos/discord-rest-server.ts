/**
 * A Discord-shaped REST server on loopback for the fault suite: the offline harness's
 * FakeDiscordRest (Discord's answers, limits and 3-second window, every call captured) served
 * over node:http, so bot processes reach it through discord.js's `api` option, with faults put
 * in front of it per route class: 429 with Discord's body and headers, 500, or an answer held
 * past discord.js's timeout. Every request is recorded with when it came and how it was answered,
 * so retries can be checked against the `retry_after` they were given.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeDiscordRest, FIRST_RESPONSE_WINDOW_MS } from '../../src/offline/rest.js';

/**
 * Where a request goes: an interaction's first response (`callback`, within Discord's 3 s), the
 * later edits and follow-ups of its reply (`webhook`, within 15 minutes), or a message the bot
 * posts or edits in a channel (approval messages, alerts).
 */
export type RouteClass = 'callback' | 'webhook' | 'post' | 'edit' | 'other';

/**
 * How a faulted request is answered: `429` (rate limited, with `retry_after`), `500`, `timeout`
 * (no answer until the client gives up; not carried out) or `late` (carried out, but the answer
 * never arrives: the client gives up and tries again, as after a lost response).
 */
export type FaultMode = '429' | '500' | 'timeout' | 'late';

export interface Fault {
  /** `timeout` holds the answer; whether Discord acted on the request is `acted`. */
  mode: '429' | '500' | 'timeout';
  /** For timeout: carried out never (default), always, or every second faulted request of a class. */
  acted?: 'never' | 'always' | 'alternate';
  classes: readonly RouteClass[];
  /** How many times each distinct request is faulted before it is let through. */
  perRequest: number;
  /** How many distinct requests of each route class are faulted (default: every one). */
  perClass?: number;
  /** For 429: the `retry_after` sent, in seconds. */
  retryAfterS?: number;
}

/** One request the server received, and how it answered. */
export interface Received {
  method: string;
  path: string;
  cls: RouteClass;
  /** Method, path and body: a retry of a request has the same key. */
  key: string;
  at: number;
  answeredAt: number;
  /** 200, 204, 400, 429, 500...; 0 when held until the client gave up. */
  status: number;
  /** The fault answered, if any. */
  fault?: FaultMode;
  /** For a 429: how long the client must wait before trying again. */
  retryAfterMs?: number;
}

const API_PREFIX = /^\/api\/v\d+/;

export function routeClass(method: string, path: string): RouteClass {
  const p = path.replace(API_PREFIX, '');
  if (/^\/interactions\/\d+\/[^/]+\/callback$/.test(p)) return 'callback';
  if (/^\/webhooks\/\d+\/[^/]+/.test(p)) return 'webhook';
  if (method === 'POST' && /^\/channels\/\d+\/messages$/.test(p)) return 'post';
  if (method === 'PATCH' && /^\/channels\/\d+\/messages\/\d+$/.test(p)) return 'edit';
  return 'other';
}

export class DiscordRestServer {
  readonly fake: FakeDiscordRest;
  readonly received: Received[] = [];
  private fault: Fault | undefined;
  private readonly faulted = new Map<string, number>();
  /** Distinct requests faulted so far, per route class. */
  private readonly faultedIn = new Map<RouteClass, number>();
  /** Requests held open (timeout, late): ended when the server closes. */
  private readonly held = new Set<ServerResponse>();
  private server: Server | undefined;
  url = '';

  constructor(applicationId: string) {
    // Background calls (posts, alerts) are told apart by route, not by this flag.
    this.fake = new FakeDiscordRest(applicationId, FIRST_RESPONSE_WINDOW_MS, () => true);
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => void this.serve(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    return this.url;
  }

  /** Faults the requests of `fault.classes` from now until `clear()`. */
  inject(fault: Fault): void {
    this.fault = fault;
    this.faulted.clear();
    this.faultedIn.clear();
  }

  clear(): void {
    this.fault = undefined;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.held.clear();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const method = (req.method ?? 'GET').toUpperCase();
    const url = `http://127.0.0.1${req.url ?? '/'}`;
    const path = decodeURIComponent(new URL(url).pathname);
    const cls = routeClass(method, path);
    const key = `${method} ${path} ${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;
    const entry: Received = { method, path, cls, key, at, answeredAt: at, status: 0 };
    this.received.push(entry);
    const fault = this.faultFor(cls, key);
    if (fault) entry.fault = fault;
    if (fault === '429') return this.rateLimited(res, entry, this.fault?.retryAfterS ?? 0.4);
    if (fault === '500') {
      return this.send(
        res,
        entry,
        500,
        { 'content-type': 'application/json' },
        '{"message":"500: Internal Server Error","code":0}',
      );
    }
    if (fault === 'late') await this.carryOut(req, url, method, raw);
    if (fault) {
      // No answer: discord.js aborts after its timeout, and the socket closes.
      this.held.add(res);
      res.on('close', () => {
        entry.answeredAt = Date.now();
        this.held.delete(res);
      });
      return;
    }
    const answer = await this.carryOut(req, url, method, raw);
    const headers: Record<string, string> = {};
    answer.headers.forEach((v, k) => (headers[k] = v));
    this.send(res, entry, answer.status, headers, Buffer.from(await answer.arrayBuffer()));
  }

  /** How this request is faulted now, if it is. */
  private faultFor(cls: RouteClass, key: string): FaultMode | undefined {
    const f = this.fault;
    if (!f || !f.classes.includes(cls)) return undefined;
    const n = this.faulted.get(key) ?? 0;
    if (n >= f.perRequest) return undefined;
    const inClass = this.faultedIn.get(cls) ?? 0;
    if (n === 0) {
      if (inClass >= (f.perClass ?? Infinity)) return undefined;
      this.faultedIn.set(cls, inClass + 1);
    }
    this.faulted.set(key, n + 1);
    if (f.mode !== 'timeout') return f.mode;
    const acted = f.acted === 'always' || (f.acted === 'alternate' && n === 0 && inClass % 2 === 1);
    return acted ? 'late' : 'timeout';
  }

  /**
   * Resolves true once every request faulted since `from` was sent again and answered (the
   * bots got over the fault), false if that has not happened within `timeoutMs`.
   */
  async settled(from: number, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const rows = this.received.slice(from);
      const open = rows.filter(
        (r, i) => r.fault && !rows.slice(i + 1).some((n) => n.key === r.key && !n.fault && n.status > 0),
      );
      if (!open.length) return true;
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The request as discord.js sent it, handed to the fake Discord. */
  private async carryOut(req: IncomingMessage, url: string, method: string, raw: Buffer): Promise<Response> {
    const type = req.headers['content-type'] ?? '';
    let body: unknown;
    if (type.startsWith('multipart/form-data'))
      body = await new Request(url, {
        method,
        headers: { 'content-type': type },
        body: new Uint8Array(raw),
      }).formData();
    else if (raw.length) body = raw.toString('utf8');
    return this.fake.handle(url, { method, body });
  }

  /** Discord's 429: `retry_after` in the body, Retry-After in whole seconds, the bucket exhausted. */
  private rateLimited(res: ServerResponse, entry: Received, retryAfterS: number): void {
    entry.retryAfterMs = retryAfterS * 1000;
    const bucket = createHash('sha256').update(entry.path).digest('hex').slice(0, 12);
    const headers = {
      'content-type': 'application/json',
      'retry-after': String(Math.ceil(retryAfterS)),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': ((Date.now() + retryAfterS * 1000) / 1000).toFixed(3),
      'x-ratelimit-reset-after': retryAfterS.toFixed(3),
      'x-ratelimit-bucket': bucket,
      'x-ratelimit-scope': 'user',
    };
    const body = JSON.stringify({
      message: 'You are being rate limited.',
      retry_after: retryAfterS,
      global: false,
    });
    this.send(res, entry, 429, headers, body);
  }

  private send(
    res: ServerResponse,
    entry: Received,
    status: number,
    headers: Record<string, string>,
    body: string | Buffer,
  ): void {
    entry.status = status;
    entry.answeredAt = Date.now();
    res.writeHead(status, headers);
    res.end(status === 204 ? undefined : body);
  }
}

/** Each 429 answered, and how long the client waited before sending that request again. */
export interface RetryWait {
  path: string;
  retryAfterMs: number;
  /** From the 429's answer to the retry's arrival; null: never retried. */
  waitedMs: number | null;
}

export function retryWaits(received: readonly Received[]): RetryWait[] {
  return received
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => r.status === 429)
    .map(({ r, i }) => {
      const next = received.slice(i + 1).find((n) => n.key === r.key);
      return {
        path: r.path,
        retryAfterMs: r.retryAfterMs ?? 0,
        waitedMs: next ? next.at - r.answeredAt : null,
      };
    });
}
