import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { coalesced } from '../base/coalesce.js';
import { errorDetail, logger } from '../base/logger.js';
import type { ChangeFeed, FeedChange } from '../changes/feed.js';
import { flagOfSlot } from '../flags/types.js';
import type { PanelLogins, PanelSessionDoc } from '../tokens/panel-logins.js';
import { SESSION_COOKIE } from './guard.js';
import type { PanelDeps } from './types.js';

/** How often an open stream asks whether its session still lives, and sends a comment line. */
export interface LiveTimes {
  /** Default 5 s: a logout or an expiry closes the stream within this. */
  sessionCheckMs: number;
  /** Default 15 s: keeps proxies from closing an idle stream. */
  heartbeatMs: number;
}

const DEFAULT_TIMES: LiveTimes = { sessionCheckMs: 5000, heartbeatMs: 15_000 };

/** A stream buffering more than this is not reading: it is closed (the browser reconnects). */
const MAX_BUFFERED = 1 << 20;

/** What the page is told of a configuration change (no value: the row fetches what it may show). */
export interface LiveChange {
  key: string;
  scope: string;
  version: number;
  action: string;
  /** Who made it: the tag to show, and the id the page compares with its viewer's (data-user-id). */
  by: string;
  byId: string;
}

/** What the page is told of a flag change. */
export interface LiveFlag {
  name: string;
  version: number;
  action: string;
  by: string;
  byId: string;
}

/**
 * GET /panel/events: every change committed from now on, in this process or any other (the
 * change feed follows the shared log), as Server-Sent Events `change` and `flag`, for as long as
 * the session lives. The browser's EventSource reconnects by itself; a reconnect starts from
 * then (a page that missed changes meanwhile is refreshed by the next one it hears).
 */
export function liveRoutes(app: FastifyInstance, deps: PanelDeps, times: Partial<LiveTimes> = {}): void {
  const t = { ...DEFAULT_TIMES, ...times };
  const open = new Set<LiveStream>();
  // A server closing waits for its connections: the streams end first, so shutdown never hangs.
  app.addHook('preClose', async () => {
    for (const s of [...open]) s.end();
  });
  app.get('/panel/events', { config: { access: 'public', panel: 'read' } }, async (req, reply) => {
    const session = req.panelSession as PanelSessionDoc;
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const stream = new LiveStream(raw, deps.feed, deps.logins, req.cookies[SESSION_COOKIE], session, t);
    open.add(stream);
    raw.on('close', () => {
      stream.end();
      open.delete(stream);
    });
    stream.start();
  });
}

/** One browser's stream: its position in the feed, and the session it lives as long as. */
class LiveStream {
  private sent = 0;
  private closed = false;
  private timers: NodeJS.Timeout[] = [];
  private detach: (() => void) | undefined;

  constructor(
    private readonly raw: ServerResponse,
    private readonly feed: ChangeFeed,
    private readonly logins: PanelLogins,
    private readonly cookie: string | undefined,
    private readonly session: PanelSessionDoc,
    private readonly times: LiveTimes,
  ) {}

  start(): void {
    this.raw.write('retry: 2000\n\n');
    this.sent = this.feed.position;
    this.detach = this.feed.onAdvance(() => void this.drain());
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.times.heartbeatMs, () => this.write(': ping\n\n'));
    every(this.times.sessionCheckMs, () => void this.checkSession());
    // The absolute end needs no database read.
    const left = this.session.expiresAt.getTime() - Date.now();
    const end = setTimeout(() => this.end(), Math.max(0, Math.min(left, 2 ** 31 - 1)));
    end.unref();
    this.timers.push(end);
    void this.drain();
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.detach?.();
    this.raw.end();
  }

  /** Ends the stream once its session is gone (logout, idle, revoked); a read that fails is tried again. */
  private async checkSession(): Promise<void> {
    try {
      if (!(await this.logins.session(this.cookie, { touch: false }))) this.end();
    } catch (err) {
      logger.debug('Could not check a live stream’s panel session; checking again soon', errorDetail(err));
    }
  }

  /** Sends what the feed applied after `sent`, in order; overlapping calls run once more. */
  private readonly drain = coalesced(
    () =>
      this.drainOnce().catch((err: unknown) => {
        logger.warn(
          'Panel live stream could not read the change log; it tries again on the next change',
          errorDetail(err),
        );
      }),
    () => this.closed,
  );

  private async drainOnce(): Promise<void> {
    while (!this.closed && this.sent < this.feed.position) {
      const page = await this.feed.since(this.sent);
      if (!page) {
        // Fell behind the retained log: the page is told to refresh what it shows.
        this.sent = this.feed.position;
        this.event('resync', { position: this.sent });
        return;
      }
      if (page.through <= this.sent) return;
      for (const c of page.changes) this.send(c);
      this.sent = page.through;
    }
  }

  private send(c: FeedChange): void {
    const name = flagOfSlot(c.key);
    if (name !== undefined) {
      const data: LiveFlag = {
        name,
        version: c.version,
        action: c.action,
        by: c.actor.tag,
        byId: c.actor.id,
      };
      return this.event('flag', data);
    }
    if (!this.concerns(c.scope)) return;
    const data: LiveChange = {
      key: c.key,
      scope: c.scope,
      version: c.version,
      action: c.action,
      by: c.actor.tag,
      byId: c.actor.id,
    };
    this.event('change', data);
  }

  /** Another server's overrides are not this page's business (nor its ids): only its own guild's. */
  private concerns(scope: string): boolean {
    if (!scope.startsWith('guild:')) return true;
    return this.session.guildId !== null && scope === `guild:${this.session.guildId}`;
  }

  private event(type: string, data: unknown): void {
    this.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(text: string): void {
    if (this.closed) return;
    if (this.raw.writableLength > MAX_BUFFERED) {
      logger.warn('Closing a panel live stream whose browser stopped reading');
      this.end();
      return;
    }
    this.raw.write(text);
  }
}
