import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WireFlag } from '../../src/client/index.js';
import { parseFlag, type FlagInput } from '../../src/flags/model.js';

/**
 * A small real HTTP server speaking the docs/api.md wire format (snapshot, event stream, instance
 * reports), so the client is tested over real sockets until the real API can be started in tests.
 * The test decides what happens: it publishes changes, drops streams, refuses the token.
 */

export interface FakeValue {
  value: unknown;
  version: number;
  layer: string;
  sensitive: boolean;
  masked?: boolean;
}

export interface StreamOpened {
  lastEventId: string | undefined;
  query: URLSearchParams;
}

interface StoredEvent {
  id: number;
  event: string;
  /** The `data:` line as sent. */
  data: string;
}

export const TOKEN = 'cfgbot_abc123_s3cr3t-token-value';

export class FakeApi {
  readonly events = new EventEmitter();
  readonly reports: Record<string, unknown>[] = [];
  readonly snapshotQueries: URLSearchParams[] = [];
  /** The tokens this API accepts. */
  readonly tokens = new Set([TOKEN]);
  seq: number;
  values: Record<string, FakeValue>;
  /** Set to answer every request with this status and the API's error body. */
  refuse: { status: number; code: string; message: string } | undefined;
  /** Set to answer instance reports 503. */
  failReports = false;
  /** What `GET /v1/flags` lists; undefined answers 404, as an API older than flags does. */
  flags: WireFlag[] | undefined = [];
  /** Set to answer error reports 503. */
  failErrorReports = false;
  /** Bodies of `POST /v1/flags/:name/errors`, with the name. */
  readonly errorReports: { name: string; count: number }[] = [];
  /** Every request received, whatever its answer. */
  requestCount = 0;
  /** Events at or below this id are no longer retained: resuming from before it gets a resync. */
  retainedAfter = 0;
  private readonly log: StoredEvent[] = [];
  private readonly streams = new Set<ServerResponse>();
  private server: Server | undefined;
  url = '';

  constructor(values: Record<string, FakeValue>, seq = 10) {
    this.values = values;
    this.seq = seq;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Commits a change: the next seq, the value in the snapshot, an event on every open stream. */
  change(key: string, value: unknown, extra: Partial<FakeValue> & { scope?: string } = {}): number {
    const current = this.values[key];
    const next: FakeValue = {
      value,
      version: (current?.version ?? 0) + 1,
      layer: extra.layer ?? 'global',
      sensitive: extra.sensitive ?? current?.sensitive ?? false,
      ...(extra.masked ? { masked: true } : {}),
    };
    this.values[key] = next;
    this.seq += 1;
    const data = {
      seq: this.seq,
      key,
      scope: extra.scope ?? 'global',
      action: 'set',
      actor: { id: '111111111111111111', tag: 'admin' },
      at: new Date().toISOString(),
      ...next,
    };
    this.publish({ id: this.seq, event: 'change', data: JSON.stringify(data) });
    return this.seq;
  }

  /** Commits a flag version: the next seq, the flag in the list, an `event: flag` on every open stream. */
  flagChange(flag: WireFlag, action = 'set'): number {
    this.flags = [...(this.flags ?? []).filter((f) => f.name !== flag.name), flag];
    this.seq += 1;
    const data = {
      seq: this.seq,
      name: flag.name,
      version: flag.version,
      action,
      actor: flag.updatedBy,
      at: flag.updatedAt,
      flag,
    };
    this.publish({ id: this.seq, event: 'flag', data: JSON.stringify(data) });
    return this.seq;
  }

  /** A change that does not concern the stream: only its position moves. */
  checkpoint(): number {
    return this.publishRaw('checkpoint', JSON.stringify({ seq: this.seq + 1 }));
  }

  /** An event at the next seq with `data` as given, whatever it holds (a server sending garbage). */
  publishRaw(event: string, data: string): number {
    this.seq += 1;
    this.publish({ id: this.seq, event, data });
    return this.seq;
  }

  /** Sends a stored event again to every open stream (a server that replays one too many). */
  replay(id: number): void {
    const stored = this.log.find((e) => e.id === id);
    if (stored) for (const res of this.streams) write(res, stored);
  }

  /** Cuts every open stream as a crash or a proxy would (no clean end). */
  dropStreams(): void {
    for (const res of this.streams) res.socket?.destroy();
    this.streams.clear();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  async stop(): Promise<void> {
    this.dropStreams();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private publish(stored: StoredEvent): void {
    this.log.push(stored);
    for (const res of this.streams) write(res, stored);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.requestCount += 1;
    const token = req.headers.authorization?.replace(/^Bearer /, '');
    if (!token || !this.tokens.has(token))
      return json(res, 401, { error: { code: 'UNAUTHORIZED', message: 'Unknown or revoked token' } });
    if (this.refuse) return json(res, this.refuse.status, { error: this.refuse });
    if (req.method === 'GET' && url.pathname === '/v1/config') {
      this.snapshotQueries.push(url.searchParams);
      this.events.emit('snapshot', url.searchParams);
      return json(res, 200, {
        seq: this.seq,
        environment: url.searchParams.get('env') ?? 'production',
        guild: url.searchParams.get('guild'),
        values: this.values,
      });
    }
    if (req.method === 'GET' && url.pathname === '/v1/flags' && this.flags)
      return json(res, 200, {
        seq: this.seq,
        environment: url.searchParams.get('env') ?? 'production',
        flags: this.flags,
      });
    const errors = /^\/v1\/flags\/([^/]+)\/errors$/.exec(url.pathname);
    if (req.method === 'POST' && errors && this.flags)
      return this.errors(req, res, decodeURIComponent(errors[1] ?? ''));
    if (req.method === 'GET' && url.pathname === '/v1/events') return this.stream(req, res, url);
    if (req.method === 'POST' && url.pathname === '/v1/instances/report') {
      if (this.failReports) {
        json(res, 503, { error: { code: 'UNAVAILABLE', message: 'Database unavailable' } });
        this.events.emit('report-failed');
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const report = JSON.parse(body) as Record<string, unknown>;
        this.reports.push(report);
        res.writeHead(204).end();
        this.events.emit('report', report);
      });
      return;
    }
    json(res, 404, { error: { code: 'NOT_FOUND', message: `${req.method} ${url.pathname}` } });
  }

  private errors(req: IncomingMessage, res: ServerResponse, name: string): void {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const { count } = JSON.parse(body) as { count: number };
      if (this.failErrorReports) {
        json(res, 503, { error: { code: 'UNAVAILABLE', message: 'Database unavailable' } });
        this.events.emit('error-report-failed', { name, count });
        return;
      }
      const flag = this.flags?.find((f) => f.name === name);
      if (!flag) return json(res, 404, { error: { code: 'NOT_FOUND', message: `No flag ${name}` } });
      this.errorReports.push({ name, count });
      json(res, 200, {
        name,
        counted: count,
        errors: null,
        threshold: null,
        killed: false,
        version: flag.version,
      });
      this.events.emit('error-report', { name, count });
    });
  }

  private stream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const header = req.headers['last-event-id'];
    const lastEventId = Array.isArray(header) ? header[0] : header;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(': ping\n\n');
    const after = Number(lastEventId ?? this.seq);
    if (after < this.retainedAfter) res.write(`event: resync\ndata: {"seq":${this.seq}}\n\n`);
    else for (const stored of this.log) if (stored.id > after) write(res, stored);
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
    const opened: StreamOpened = { lastEventId, query: url.searchParams };
    this.events.emit('stream', opened);
  }
}

function write(res: ServerResponse, stored: StoredEvent): void {
  res.write(`id: ${stored.id}\nevent: ${stored.event}\ndata: ${stored.data}\n\n`);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Resolves with the next emission of `event` (of the client or the fake API). */
export async function next<T>(emitter: EventEmitter, event: string): Promise<T> {
  const [value] = (await once(emitter, event)) as [T];
  return value;
}

/** Values shaped like the shipped keys. */
export function shippedValues(): Record<string, FakeValue> {
  return {
    MAX_BATCH_SIZE: { value: 100, version: 1, layer: 'global', sensitive: false },
    AI_CONFIDENCE_THRESHOLD: { value: 0.85, version: 1, layer: 'global', sensitive: false },
    EXPORT_WEBHOOK_URL: {
      value: 'https://hooks.example/secret-path-123',
      version: 2,
      layer: 'global',
      sensitive: true,
    },
  };
}

/** A flag as the API sends it: `input` with its defaults filled in, at `version`. */
export function wireFlag(input: FlagInput, version = 1): WireFlag {
  const parsed = parseFlag(input);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return {
    ...parsed.flag,
    version,
    updatedAt: new Date().toISOString(),
    updatedBy: { id: '111111111111111111', tag: 'admin' },
  };
}
