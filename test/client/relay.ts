import { EventEmitter, once } from 'node:events';
import {
  createServer,
  request,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the relay received, as the client sent it. */
export interface Relayed {
  method: string;
  path: string;
  query: URLSearchParams;
  lastEventId: string | undefined;
  body: string;
}

interface Rule {
  match: (r: Relayed) => boolean;
  status: number;
  body: unknown;
}

interface Rewrite {
  match: (r: Relayed) => boolean;
  change: (body: Record<string, unknown>) => Record<string, unknown>;
}

interface OpenStream {
  res: ServerResponse;
  upstream: IncomingMessage;
  /** What arrived of an event not yet complete: events are relayed whole, so text fits between them. */
  partial: string;
}

/** A one-off change to the next event of a type: its `data:` line replaced. */
interface Garble {
  event: string;
  data: string;
  /** Which event of that type, by its data as the API sent it. */
  when: (data: string) => boolean;
}

/** Hop-by-hop headers: each side of the relay has its own connection. */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

/**
 * An HTTP relay on loopback between a client under test and a real API the test started. It
 * passes every request and answer through unchanged and records what the client sent, and lets
 * the test do what networks and outages do: close the port (the API is unreachable), cut open
 * event streams (a crash or a proxy timing out), move to another API. For what the real API
 * cannot be made to do on demand, a test can have a route answered as a database outage or an
 * older release would (`answer`), alter an answer (`rewrite`), garble an event or send one again
 * (`garbleNext`, `inject`) as a faulty server would. Events are relayed whole, so whatever a test
 * adds falls between two of them.
 */
export class Relay {
  readonly requests: Relayed[] = [];
  /** `request` (a Relayed) as each request arrives, answered or not. */
  readonly events = new EventEmitter();
  private readonly server: Server;
  private readonly streams = new Set<OpenStream>();
  /** Event stream requests not answered yet (a cut drops them too). */
  private readonly asking = new Set<ServerResponse>();
  /** Every event relayed (its text, `id:` line included), in order, to send again with `inject`. */
  readonly relayedEvents: string[] = [];
  private rules: Rule[] = [];
  private rewrites: Rewrite[] = [];
  private garbles: Garble[] = [];
  private port = 0;

  private constructor(private target: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** A relay to `target` (the API's base URL) on a free loopback port. */
  static async start(target: string): Promise<Relay> {
    const relay = new Relay(target);
    await relay.open();
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Event streams open through the relay now. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Relays to another API from the next request on. */
  retarget(url: string): void {
    this.target = url;
  }

  /** Answers matching requests with `status` and `body` itself; the API never sees them. Returns the undo. */
  answer(match: (r: Relayed) => boolean, status: number, body: unknown): () => void {
    const rule = { match, status, body };
    this.rules.push(rule);
    return () => void (this.rules = this.rules.filter((r) => r !== rule));
  }

  /** Passes the API's JSON answers to matching requests through `change`. Returns the undo. */
  rewrite(match: Rewrite['match'], change: Rewrite['change']): () => void {
    const rewrite = { match, change };
    this.rewrites.push(rewrite);
    return () => void (this.rewrites = this.rewrites.filter((r) => r !== rewrite));
  }

  /** Puts `text` (raw Server-Sent Events) on every open event stream, between two of the API's events. */
  inject(text: string): void {
    for (const s of this.streams) s.res.write(text);
  }

  /** The text of the event with this id as relayed (to inject again: a server replaying one). */
  relayedEvent(id: number): string {
    const found = this.relayedEvents.find((e) => e.startsWith(`id: ${id}\n`));
    if (!found) throw new Error(`no event ${id} was relayed`);
    return found;
  }

  /**
   * Replaces the data of the next `event` the API sends (the next whose data `when` accepts) with
   * `data`, as a faulty server would send it.
   */
  garbleNext(event: string, data: string, when: (data: string) => boolean = () => true): void {
    this.garbles.push({ event, data, when });
  }

  /** Cuts every open event stream as a crash would: the connection drops, with no clean end. */
  cut(): void {
    for (const res of this.asking) res.socket?.destroy();
    for (const s of this.streams) {
      s.res.socket?.destroy();
      s.upstream.destroy();
    }
    this.asking.clear();
    this.streams.clear();
  }

  /** The next request matching `match` (from now on). */
  next(match: (r: Relayed) => boolean = () => true): Promise<Relayed> {
    return new Promise((resolve) => {
      const seen = (r: Relayed): void => {
        if (!match(r)) return;
        this.events.off('request', seen);
        resolve(r);
      };
      this.events.on('request', seen);
    });
  }

  /** Stops listening and drops every connection: connecting is refused until `open()`. */
  async close(): Promise<void> {
    this.cut();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Listens (again, on the same port once it had one). */
  async open(): Promise<void> {
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://relay');
    const header = req.headers['last-event-id'];
    const relayed: Relayed = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      lastEventId: Array.isArray(header) ? header[0] : header,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(relayed);
    this.events.emit('request', relayed);
    const rule = this.rules.find((r) => r.match(relayed));
    if (rule) {
      res.writeHead(rule.status, { 'content-type': 'application/json' }).end(JSON.stringify(rule.body));
      return;
    }
    if (relayed.path === '/v1/events') {
      this.asking.add(res);
      res.on('close', () => this.asking.delete(res));
    }
    const upstream = request(new URL(req.url ?? '/', this.target), {
      method: req.method,
      headers: withoutHop(req.headers),
      agent: false,
    });
    upstream.on('error', () => res.socket?.destroy());
    const rewrite = this.rewrites.find((r) => r.match(relayed));
    upstream.on('response', (answer) =>
      rewrite ? void this.rewritten(answer, res, rewrite) : this.relay(answer, res),
    );
    upstream.end(Buffer.concat(chunks));
    res.on('close', () => upstream.destroy());
  }

  /** An event block as relayed: recorded, and garbled when a garble waits for its type. */
  private garbled(block: string): string {
    const type = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
    const at = this.garbles.findIndex((g) => g.event === type && g.when(data));
    const garble = at < 0 ? undefined : this.garbles.splice(at, 1)[0];
    const out = garble ? block.replace(/^data: .*$/m, () => `data: ${garble.data}`) : block;
    if (block.startsWith('id: ')) this.relayedEvents.push(`${out}\n\n`);
    return out;
  }

  private async rewritten(answer: IncomingMessage, res: ServerResponse, rewrite: Rewrite): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of answer) chunks.push(chunk as Buffer);
    const body = JSON.stringify(
      rewrite.change(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>),
    );
    const headers = withoutHop(answer.headers);
    delete headers['content-length'];
    res.writeHead(answer.statusCode ?? 502, headers).end(body);
  }

  private relay(answer: IncomingMessage, res: ServerResponse): void {
    res.writeHead(answer.statusCode ?? 502, withoutHop(answer.headers));
    if (!String(answer.headers['content-type']).startsWith('text/event-stream')) {
      answer.pipe(res);
      return;
    }
    const stream: OpenStream = { res, upstream: answer, partial: '' };
    this.asking.delete(res);
    this.streams.add(stream);
    res.on('close', () => this.streams.delete(stream));
    answer.setEncoding('utf8');
    answer.on('data', (text: string) => {
      const blocks = (stream.partial + text).split('\n\n');
      stream.partial = blocks.pop() ?? '';
      for (const block of blocks) res.write(`${this.garbled(block)}\n\n`);
    });
    answer.on('end', () => res.end());
    answer.on('error', () => res.socket?.destroy());
  }
}

function withoutHop(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP.has(name)));
}
