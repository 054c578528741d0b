import type { ServerResponse } from 'node:http';
import type { WireChange, WireFlag, WireFlagEvent } from '@config-bot/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ChangeFeed, FeedChange } from '../../changes/feed.js';
import type { RegisteredKey } from '../../config/registry.js';
import { resolveLayers, type SlotState } from '../../config/resolution.js';
import { GLOBAL, slotId, type Scope } from '../../config/scopes.js';
import type { ConfigService } from '../../config/service.js';
import { coalesced } from '../../base/coalesce.js';
import { parseFlag } from '@config-bot/client/flags';
import { flagOfSlot } from '../../flags/types.js';
import { errorDetail, logger } from '../../base/logger.js';
import { readTarget, tokenOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { wireFlag } from '../flag-wire.js';
import type { ActiveTokens } from '../active-tokens.js';
import type { ApiMetrics } from '../metrics.js';
import type { ApiToken } from '../../tokens/tokens.js';
import { wireValue } from '../values.js';
import { errorSchema } from './schemas.js';

export interface EventRoutesDeps {
  config: ConfigService;
  feed: ChangeFeed;
  metrics: ApiMetrics;
  /** Tells when a token is revoked or expires: its open streams are closed then. */
  tokens: ActiveTokens;
  /** Comment lines on idle streams, so proxies keep them open. Default 15 s. */
  heartbeatMs?: number;
}

/** A stream buffering more than this is not reading: it is closed, and resumes when it reconnects. */
const MAX_BUFFERED = 1 << 20;

const query = z.object({
  keys: z.string().max(2000).optional().describe('Comma-separated keys (default: every key)'),
  env: z.string().min(1).max(32).optional(),
  guild: z
    .string()
    .regex(/^\d{15,21}$/, 'a Discord server id is 15 to 21 digits')
    .optional(),
  lastEventId: z.string().max(20).optional().describe('Same as the Last-Event-ID header'),
  flags: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true')
    .describe('Send flag changes (event: flag); `keys` does not filter them out'),
});

/**
 * The text of each recent event, by the change and what decides its content (the stream's
 * environment, server and whether its token sees secrets), shared by every stream of this
 * server: a change reaching a thousand streams is serialized once per kind of stream, not once
 * per stream. Flag definitions are read from the change itself (the feed carries the version).
 */
class EventTexts {
  private readonly texts = new Map<string, string | undefined>();

  /** The text for `id`, made by `make` the first time (undefined: the event is not sent). */
  get(id: string, make: () => string | undefined): string | undefined {
    if (this.texts.has(id)) return this.texts.get(id);
    const text = make();
    // Streams follow the feed closely: the newest few hundred events cover every live stream.
    if (this.texts.size >= 1000) this.texts.delete(this.texts.keys().next().value ?? '');
    this.texts.set(id, text);
    return text;
  }
}

/** A flag change's definition, as its version holds it; undefined when not valid for this release. */
function flagOf(c: FeedChange): WireFlag | undefined {
  const parsed = parseFlag(c.value);
  if (!parsed.ok) {
    logger.warn(`Flag ${c.key} v${c.version} is not valid for this release; streams skip it`);
    return undefined;
  }
  return wireFlag(parsed.flag, c.version, c.at, c.actor);
}

/** GET /v1/events: committed changes as Server-Sent Events, resumable from any retained position. */
export function eventRoutes(app: FastifyInstance, deps: EventRoutesDeps): void {
  const open = new Set<EventStream>();
  const texts = new EventTexts();
  // A server closing waits for its connections: streams are ended first.
  app.addHook('preClose', async () => {
    stopFollowingTokens();
    for (const s of [...open]) s.end();
  });
  // A revoked or expired token's streams end at once: nothing more reaches its holder.
  const stopFollowingTokens = deps.tokens.onEnd((id, why) => {
    const ended = [...open].filter((s) => s.tokenId === id);
    if (ended.length)
      logger.info(`Closed ${ended.length} event stream(s) of an API token that was ${why} (${id})`);
    for (const s of ended) s.end();
  });

  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/events',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Committed changes as Server-Sent Events (change, checkpoint, resync)',
        querystring: query,
        response: { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const token = tokenOf(req);
      const { config, feed } = deps;
      const at = readTarget(token, req.query, config.environments, config.environment);
      const keys = req.query.keys
        ? new Set(
            req.query.keys
              .split(',')
              .map((k) => k.trim())
              .filter(Boolean)
              .map((k) => config.definition(k).key),
          )
        : undefined;
      const header = req.headers['last-event-id'];
      const lastText = (Array.isArray(header) ? header[0] : header) ?? req.query.lastEventId;
      let last: number | undefined;
      if (lastText !== undefined && lastText !== '') {
        if (!/^\d{1,15}$/.test(lastText.trim()))
          throw new ApiError(
            400,
            'VALIDATION',
            `Last-Event-ID must be an event id (a whole number), not "${lastText.slice(0, 20)}".`,
          );
        last = Number(lastText.trim());
      }
      const head = last !== undefined && last > feed.position ? await config.changes.head() : 0;

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // Revoked between the check and here (or just now): no stream at all.
      if (!deps.tokens.isActive(token.id)) {
        raw.end();
        return;
      }
      const stream = new EventStream(raw, deps, texts, token, {
        ...at,
        keys,
        flags: req.query.flags === 'true',
      });
      open.add(stream);
      deps.metrics.streams.inc();
      raw.on('close', () => {
        stream.end();
        if (open.delete(stream)) deps.metrics.streams.dec();
      });
      // An id from the future (another database, a typo) cannot be resumed from.
      stream.start(last !== undefined && last > head && last > feed.position ? -1 : last);
    },
  );
}

function eventText(type: string, id: number, data: unknown): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The scopes a key resolves through for an environment and a server, most specific first. */
function layerScopes(def: RegisteredKey, at: { environment: string; guildId: string | undefined }): Scope[] {
  const chain: Scope[] = [];
  if (at.guildId && def.scopes.includes('guild')) chain.push(`guild:${at.guildId}`);
  if (def.scopes.includes('env')) chain.push(`env:${at.environment}`);
  chain.push(GLOBAL);
  return chain;
}

/** One client's stream: its position, its filter, and the events it still has to receive. */
class EventStream {
  private sent = 0;
  private closed = false;
  /** What this stream's layer slots hold as of `sent` (set by start, moved by each change sent). */
  private layersReady: Promise<Map<string, SlotState>> = Promise.resolve(new Map());
  private layers: Map<string, SlotState> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private detach: (() => void) | undefined;

  constructor(
    private readonly raw: ServerResponse,
    private readonly deps: EventRoutesDeps,
    private readonly texts: EventTexts,
    private readonly token: ApiToken,
    private readonly filter: {
      environment: string;
      guildId: string | undefined;
      keys: Set<string> | undefined;
      /** Whether flag changes are sent (they are global: the other filters do not apply to them). */
      flags: boolean;
    },
  ) {}

  get tokenId(): string {
    return this.token.id;
  }

  /** From `last` (undefined: from now; -1: unknown, resync). */
  start(last: number | undefined): void {
    this.raw.write('retry: 2000\n\n');
    if (last === undefined || last < 0) {
      this.sent = this.deps.feed.position;
      if (last !== undefined) this.resync();
    } else {
      this.sent = last;
    }
    // What this stream's layers held at its position: events resolve as of their own position.
    const slots = this.slots();
    this.layersReady =
      this.sent >= this.deps.feed.position
        ? Promise.resolve(new Map(slots.map((slot) => [slot, this.deps.feed.stateOf(slot)])))
        : this.deps.feed.statesAt(slots, this.sent);
    // Awaited by the first drain (a failure is retried there, not left unhandled here).
    this.layersReady.catch(() => undefined);
    this.detach = this.deps.feed.onAdvance(() => void this.drain());
    this.heartbeat = setInterval(() => this.write(': ping\n\n'), this.deps.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    void this.drain();
  }

  /** The slots of every key this stream shows that its environment and server resolve through. */
  private slots(): string[] {
    const { config } = this.deps;
    const out: string[] = [];
    for (const key of this.filter.keys ?? config.keys()) {
      if (!config.isRegistered(key)) continue;
      out.push(...layerScopes(config.definition(key), this.filter).map((scope) => slotId(key, scope)));
    }
    return out;
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.detach?.();
    this.raw.end();
  }

  /** Sends what happened after `sent`, in order; overlapping calls run once more, not in parallel. */
  private readonly drain = coalesced(
    () =>
      this.drainOnce().catch((err: unknown) => {
        logger.warn(
          'Event stream could not read the change log; it tries again on the next change',
          errorDetail(err),
        );
      }),
    () => this.closed,
  );

  private async drainOnce(): Promise<void> {
    if (!this.layers) {
      try {
        this.layers = await this.layersReady;
      } catch (err) {
        // Read again on the next change (the log or the versions could not be read).
        this.layersReady = this.deps.feed.statesAt(this.slots(), this.sent);
        this.layersReady.catch(() => undefined);
        throw err;
      }
    }
    while (!this.closed && this.sent < this.deps.feed.position) {
      const page = await this.deps.feed.since(this.sent);
      if (page === undefined) return this.resync();
      if (page.through <= this.sent) return;
      let lastSent = this.sent;
      for (const c of page.changes) {
        const shown = this.shown(c);
        if (this.closed) return;
        if (shown === undefined) continue;
        this.write(shown);
        // Moved per event: a page that fails halfway (a flag version unreadable in an outage)
        // goes on after the last event sent, not from its start again.
        this.sent = lastSent = c.seq;
      }
      this.sent = page.through;
      // Changes this stream does not show still move its position, so a resume skips them too.
      if (lastSent < this.sent) this.event('checkpoint', this.sent, { seq: this.sent });
    }
  }

  /** The event a change is on this stream, as sent, or undefined when the stream does not show it. */
  private shown(c: FeedChange): string | undefined {
    const flag = flagOfSlot(c.key);
    if (flag !== undefined) {
      // Flags are global and not keys: `keys`, env and guild do not filter them, `flags=false` does.
      if (!this.filter.flags) return undefined;
      return this.texts.get(`${c.seq}|flag`, () => {
        const def = flagOf(c);
        return def && eventText('flag', c.seq, this.flagPayload(c, flag, def));
      });
    }
    if (!this.concerns(c)) return undefined;
    // This stream's layers move with every change it shows, whoever made the text.
    const layers = this.layers ?? new Map<string, SlotState>();
    layers.set(slotId(c.key, c.scope), {
      version: c.version,
      value: c.value,
      ...(c.action === 'unset' ? { unset: true } : {}),
    });
    const { environment, guildId } = this.filter;
    return this.texts.get(`${c.seq}|${environment}|${guildId ?? ''}|${this.token.sensitive}`, () =>
      eventText('change', c.seq, this.payload(c, layers)),
    );
  }

  private concerns(c: FeedChange): boolean {
    if (this.filter.keys && !this.filter.keys.has(c.key)) return false;
    if (c.scope === GLOBAL) return true;
    if (c.scope.startsWith('env:')) return c.scope === `env:${this.filter.environment}`;
    return this.filter.guildId !== undefined && c.scope === `guild:${this.filter.guildId}`;
  }

  /**
   * A change as of its own position: `change` is the value the version holds at its scope, and
   * `value`/`layer`/`layerVersion` what this stream's environment and server resolve to once it
   * applies (with the changes before it and none after), so a client applying events in order,
   * live or replayed, holds at each step what was in force then.
   */
  private payload(c: FeedChange, layers: Map<string, SlotState>): WireChange {
    const { config } = this.deps;
    const def = config.definition(c.key);
    const forced = config.processOverride(def.key);
    const chain = layerScopes(def, this.filter).map((scope) => ({
      scope,
      state: layers.get(slotId(def.key, scope)),
    }));
    const resolved = resolveLayers(def, chain);
    return {
      seq: c.seq,
      key: c.key,
      scope: c.scope,
      version: c.version,
      action: c.action,
      actor: c.actor,
      at: c.at.toISOString(),
      change: c.action === 'unset' ? { value: null, unset: true } : wireValue(def, c.value, this.token),
      ...wireValue(def, forced ? forced.value : resolved.value, this.token),
      layer: forced ? 'process' : resolved.layer,
      // The version of the layer supplying `value` as of this event (`version` is the change's own).
      layerVersion: resolved.version,
      sensitive: def.sensitive,
    };
  }

  /** A flag change: the definition of the version it committed (the flags held may be further on). */
  private flagPayload(c: FeedChange, name: string, flag: WireFlag): WireFlagEvent {
    return {
      seq: c.seq,
      name,
      version: c.version,
      action: c.action,
      actor: c.actor,
      at: c.at.toISOString(),
      flag,
    };
  }

  private resync(): void {
    this.sent = this.deps.feed.position;
    this.event('resync', this.sent, { seq: this.sent });
  }

  private event(type: string, id: number, data: unknown): void {
    this.write(eventText(type, id, data));
  }

  private write(text: string): void {
    if (this.closed) return;
    if (this.raw.writableLength > MAX_BUFFERED) {
      logger.warn('Closing an event stream whose client stopped reading; it resumes when it reconnects');
      this.end();
      return;
    }
    this.raw.write(text);
  }
}
