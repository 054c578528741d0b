import {
  Client,
  Events,
  GatewayDispatchEvents,
  GatewayOpcodes,
  InteractionResponseType,
  InteractionType,
  Status,
  version as djsVersion,
  type APIInteraction,
  type APIMessage,
  type BaseInteraction,
  type GatewayInteractionCreateDispatch,
} from 'discord.js';
import { errorDetail, logger } from '../logger.js';
import { createInteractionHandler } from './dispatcher.js';
import {
  isEmptyMessage,
  messageIssues,
  modalIssues,
  pathText,
  type LimitIssue,
  type MessageBody,
} from './limits.js';
import { messageFrom, snowflake } from './payloads.js';
import { LoopbackUploads } from './uploads.js';
import type { Command, CommandContext } from './types.js';

export type CallKind =
  | 'reply'
  | 'defer'
  | 'update'
  | 'deferUpdate'
  | 'autocomplete'
  | 'modal'
  | 'editReply'
  | 'followUp'
  | 'channelMessage'
  | 'channelEdit'
  | 'other';

/** One REST call the bot made, as it would have reached Discord. */
export interface CapturedCall {
  kind: CallKind;
  method: string;
  path: string;
  /** The JSON body (for a callback: its `data`), or undefined. */
  body: Record<string, unknown> | undefined;
  /** The interaction token it answered, when it answered one. */
  token: string | undefined;
  /** Names of attached files (multipart requests). */
  files?: string[];
  /** Contents of the attached files, in the order of `files`. */
  fileData?: Buffer[];
  at: number;
  /** For an interaction's initial response: milliseconds since the interaction arrived. */
  afterMs?: number;
}

/** A request Discord would have refused, answered with its 400 (or 404) instead of being carried out. */
export interface Violation {
  method: string;
  path: string;
  status: number;
  /**
   * Discord's JSON error code: 50035 Invalid Form Body, 50006 empty message, 40060 already
   * acknowledged, 10062 unknown interaction (its first response came too late).
   */
  code: number;
  message: string;
  /** What was wrong, one line each (`embeds[0].fields[3].value: ...`). */
  problems: string[];
  at: number;
}

/**
 * How long Discord waits for an interaction's first response (a reply, a deferral, a modal,
 * autocomplete choices); past it, the user sees "The application did not respond" and the
 * interaction's token no longer takes one.
 */
export const FIRST_RESPONSE_WINDOW_MS = 3000;

export interface HarnessOptions {
  /** Discord's window for the first response (FIRST_RESPONSE_WINDOW_MS). */
  firstResponseWindowMs?: number;
}

export interface GatewayInjector {
  status: Status;
  handlePacket(packet: GatewayInteractionCreateDispatch, shard?: unknown): boolean;
}

/** The discord.js version the offline harness was written and tested against (package.json pins it). */
export const TESTED_DISCORD_JS = '14.28.1';

/**
 * The gateway packet handler of a client's WebSocketManager. It is private in discord.js's
 * typings, which is why package.json pins discord.js exactly: if an update moves it, this fails
 * at once with what to do, rather than every offline interaction silently going nowhere.
 */
export function gatewayOf(client: Client): GatewayInjector {
  const ws = client.ws as unknown as Partial<GatewayInjector>;
  if (typeof ws.handlePacket !== 'function' || !('status' in ws)) {
    throw new Error(
      `discord.js ${djsVersion}: the offline harness needs WebSocketManager.handlePacket and .status, which this version does not have (tested with ${TESTED_DISCORD_JS}). Pin discord.js to ${TESTED_DISCORD_JS} in package.json, or adapt src/discord/harness.ts to the new gateway internals.`,
    );
  }
  return ws as GatewayInjector;
}

const API_PREFIX = /^\/api\/v\d+/;

/**
 * A real discord.js Client that never connects: raw interaction payloads enter through the same
 * gateway packet handler a live connection feeds, the bot's handler runs as in production, and
 * every REST call it makes is captured (and answered as Discord would) instead of being sent.
 */
export class OfflineDiscord {
  readonly client: Client;
  readonly calls: CapturedCall[] = [];
  /** Messages the bot created, by id. */
  readonly messages = new Map<string, APIMessage>();
  /** Requests Discord would have refused; tests assert there are none. */
  readonly violations: Violation[] = [];
  /** Files users attach to attachment options, served on 127.0.0.1 like Discord's CDN. */
  readonly uploads = new LoopbackUploads();
  private readonly tokenMessage = new Map<string, string>();
  /** Interaction tokens that already got their one initial response. */
  private readonly acknowledged = new Set<string>();
  /** The interaction type of each token, for what Discord allows as its response (a modal). */
  private readonly tokenType = new Map<string, number>();
  /** When each interaction arrived, by token, until its first response was attempted. */
  private readonly arrived = new Map<string, number>();
  /** Tokens whose window passed without a first response: Discord no longer knows them. */
  private readonly expired = new Set<string>();
  private readonly firstResponseWindowMs: number;
  private readonly inflight = new Set<Promise<void>>();
  private sequence = 0;
  private readonly gateway: GatewayInjector;
  /** Called for calls made outside any dispatch (timers such as a confirmation expiring). */
  onBackgroundCall: ((call: CapturedCall) => void) | undefined;

  constructor(
    readonly commands: ReadonlyMap<string, Command>,
    ctx: CommandContext,
    readonly applicationId: string,
    options: HarnessOptions = {},
  ) {
    this.firstResponseWindowMs = options.firstResponseWindowMs ?? FIRST_RESPONSE_WINDOW_MS;
    this.client = new Client({
      intents: [],
      rest: { makeRequest: (url, init) => this.handleRest(url, init) },
    });
    // Requests that need the bot token (channel posts) get a dummy one: nothing leaves the process.
    this.client.rest.setToken('offline-console');
    const handler = createInteractionHandler(commands, ctx);
    this.client.on(Events.InteractionCreate, (interaction: BaseInteraction) => {
      const run = handler(interaction).finally(() => this.inflight.delete(run));
      this.inflight.add(run);
    });
    this.gateway = gatewayOf(this.client);
    // As after the READY event: packets are handled at once instead of queued.
    this.gateway.status = Status.Ready;
  }

  /** Feeds one raw interaction through the gateway path and waits until the bot has handled it. */
  async dispatch(payload: APIInteraction): Promise<CapturedCall[]> {
    const from = this.calls.length;
    if (payload.type === 3 && payload.message) this.tokenMessage.set(payload.token, payload.message.id);
    this.tokenType.set(payload.token, payload.type);
    this.arrived.set(payload.token, Date.now());
    const packet: GatewayInteractionCreateDispatch = {
      op: GatewayOpcodes.Dispatch,
      t: GatewayDispatchEvents.InteractionCreate,
      s: ++this.sequence,
      d: payload,
    };
    this.client.emit(Events.Raw, packet, 0);
    this.gateway.handlePacket(packet);
    while (this.inflight.size) await Promise.all([...this.inflight]);
    return this.calls.slice(from);
  }

  /** Waits for a call matching `predicate` made after index `from` (timers, e.g. expiry). */
  async waitForCall(
    predicate: (c: CapturedCall) => boolean,
    from: number,
    timeoutMs: number,
  ): Promise<CapturedCall> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.calls.slice(from).find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching REST call within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Tokens of the interactions dispatched that have had no first response yet (nor a refused late one). */
  unanswered(): string[] {
    return [...this.arrived.keys()];
  }

  /** The message an interaction's reply created or edited, as Discord would now show it. */
  messageOf(token: string): APIMessage | undefined {
    const id = this.tokenMessage.get(token);
    return id ? this.messages.get(id) : undefined;
  }

  async destroy(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
    await this.client.destroy();
    await this.uploads.close();
  }

  // ---- the fake Discord REST API -----------------------------------------------------------

  private async handleRest(url: string, init: { method?: string; body?: unknown }): Promise<Response> {
    const { pathname, searchParams } = new URL(url);
    const path = decodeURIComponent(pathname).replace(API_PREFIX, '');
    const method = (init.method ?? 'GET').toUpperCase();
    const body = await readBody(init.body);
    const files = init.body instanceof FormData ? fileNames(init.body) : undefined;
    const fileData = init.body instanceof FormData ? await fileContents(init.body) : undefined;
    try {
      return this.route(method, path, searchParams, body, files, fileData);
    } catch (err) {
      logger.error(`Offline Discord could not answer ${method} ${path}`, errorDetail(err));
      return json(500, { message: 'offline console error', code: 0 });
    }
  }

  private route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown> | undefined,
    files?: string[],
    fileData?: Buffer[],
  ): Response {
    const record = (kind: CallKind, token: string | undefined, data = body, afterMs?: number) => {
      const call: CapturedCall = {
        kind,
        method,
        path,
        body: data,
        token,
        at: Date.now(),
        ...(afterMs !== undefined ? { afterMs } : {}),
        ...(files ? { files } : {}),
        ...(fileData ? { fileData } : {}),
      };
      this.calls.push(call);
      if (this.inflight.size === 0) this.onBackgroundCall?.(call);
    };
    /** The message a webhook or channel request asks Discord to show or change. */
    const sent = (body ?? {}) as MessageBody;

    let m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path);
    if (m && method === 'POST') {
      const token = m[2] ?? '';
      const type = Number(body?.type);
      const data = (body?.data ?? {}) as Partial<APIMessage>;
      if (this.acknowledged.has(token))
        return this.refuse(method, path, 40060, 'Interaction has already been acknowledged.');
      const arrived = this.arrived.get(token);
      const afterMs = arrived === undefined ? undefined : Date.now() - arrived;
      // Past the window Discord has already told the user the application did not respond.
      if (this.expired.has(token) || (afterMs !== undefined && afterMs > this.firstResponseWindowMs)) {
        this.arrived.delete(token);
        this.expired.add(token);
        return this.refuse(
          method,
          path,
          10062,
          'Unknown interaction',
          [
            afterMs === undefined
              ? `the interaction's ${this.firstResponseWindowMs} ms window for a first response had passed`
              : `first response ${afterMs} ms after the interaction arrived; Discord waits ${this.firstResponseWindowMs} ms`,
          ],
          undefined,
          404,
        );
      }
      if (type === InteractionResponseType.Modal) {
        const refused = this.refuseBadModal(method, path, token, body?.data);
        if (refused) return refused;
      }
      const refused = this.refuseBadBody(method, path, callbackBody(type, data), ['data'], () =>
        type === InteractionResponseType.ChannelMessageWithSource
          ? isEmptyMessage(data as MessageBody)
          : type === InteractionResponseType.UpdateMessage &&
            isEmptyMessage(this.edited(this.messageOf(token), data)),
      );
      if (refused) return refused;
      this.acknowledged.add(token);
      this.arrived.delete(token);
      let message: APIMessage | undefined;
      if (type === InteractionResponseType.ChannelMessageWithSource) {
        record('reply', token, data as Record<string, unknown>, afterMs);
        message = this.createMessage(token, data);
      } else if (type === InteractionResponseType.DeferredChannelMessageWithSource) {
        record('defer', token, data as Record<string, unknown>, afterMs);
        message = this.createMessage(token, { ...data, flags: (data.flags ?? 0) | 128 });
      } else if (type === InteractionResponseType.UpdateMessage) {
        record('update', token, data as Record<string, unknown>, afterMs);
        message = this.editMessage(token, data);
      } else if (type === InteractionResponseType.DeferredMessageUpdate) {
        record('deferUpdate', token, data as Record<string, unknown>, afterMs);
      } else if (type === InteractionResponseType.ApplicationCommandAutocompleteResult) {
        record('autocomplete', token, data as Record<string, unknown>, afterMs);
      } else if (type === InteractionResponseType.Modal) {
        record('modal', token, data as Record<string, unknown>, afterMs);
      } else {
        record('other', token, body, afterMs);
      }
      if (query.get('with_response') !== 'true') return new Response(null, { status: 204 });
      return json(200, {
        interaction: { id: m[1], type },
        resource: { type, ...(message ? { message } : {}) },
      });
    }

    m = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/.exec(path);
    if (m) {
      const token = m[2] ?? '';
      if (method === 'PATCH') {
        const refused = this.refuseBadBody(method, path, sent, [], () =>
          isEmptyMessage(this.edited(this.messageOf(token), sent as Partial<APIMessage>), files?.length),
        );
        if (refused) return refused;
        record('editReply', token);
        return json(200, this.editMessage(token, sent as Partial<APIMessage>));
      }
      if (method === 'GET') return json(200, this.messageOf(token) ?? {});
      if (method === 'DELETE') return new Response(null, { status: 204 });
    }

    m = /^\/webhooks\/(\d+)\/([^/]+)$/.exec(path);
    if (m && method === 'POST') {
      const refused = this.refuseBadBody(method, path, sent, [], () => isEmptyMessage(sent, files?.length));
      if (refused) return refused;
      record('followUp', m[2]);
      const msg = messageFrom(sent as Partial<APIMessage>, this.ids());
      this.messages.set(msg.id, msg);
      return json(200, msg);
    }

    m = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (m && method === 'POST') {
      const refused = this.refuseBadBody(method, path, sent, [], () => isEmptyMessage(sent, files?.length));
      if (refused) return refused;
      record('channelMessage', undefined);
      const msg = messageFrom(sent as Partial<APIMessage>, { ...this.ids(), channelId: m[1] ?? '0' });
      this.messages.set(msg.id, msg);
      return json(200, msg);
    }

    m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path);
    if (m && method === 'PATCH') {
      const current = this.messages.get(m[2] ?? '');
      if (!current || current.channel_id !== m[1]) {
        record('other', undefined);
        return json(404, { message: 'Unknown Message', code: 10008 });
      }
      const refused = this.refuseBadBody(method, path, sent, [], () =>
        isEmptyMessage(this.edited(current, sent as Partial<APIMessage>), files?.length),
      );
      if (refused) return refused;
      record('channelEdit', undefined);
      const next = this.edited(current, sent as Partial<APIMessage>);
      this.messages.set(next.id, next);
      return json(200, next);
    }

    record('other', undefined);
    return json(404, { message: `Offline console: no fake for ${method} ${path}`, code: 0 });
  }

  /**
   * Discord's 400 for a body over its limits (50035, with the errors tree it sends) or with
   * nothing to show (50006); undefined when the body is fine. `prefix` is where the message sits
   * in the request (`data` of an interaction callback).
   */
  private refuseBadBody(
    method: string,
    path: string,
    body: MessageBody,
    prefix: string[],
    empty: () => boolean,
  ): Response | undefined {
    const issues = messageIssues(body);
    if (issues.length)
      return this.refuse(
        method,
        path,
        50035,
        'Invalid Form Body',
        issues.map((i) => `${pathText([...prefix, ...i.path])}: ${i.message}`),
        formErrors(issues, prefix),
      );
    if (empty()) return this.refuse(method, path, 50006, 'Cannot send an empty message');
    return undefined;
  }

  /**
   * Discord's 400 for a modal it would not show: over its limits (50035, see modalIssues), or as
   * the answer to an interaction that cannot open one (a modal submit, an autocomplete).
   */
  private refuseBadModal(method: string, path: string, token: string, data: unknown): Response | undefined {
    const from = this.tokenType.get(token);
    if (from !== InteractionType.ApplicationCommand && from !== InteractionType.MessageComponent)
      return this.refuse(method, path, 50035, 'Invalid Form Body', [
        `type: a modal answers only a command or a component interaction (this is type ${String(from)})`,
      ]);
    const issues = modalIssues((data ?? {}) as Record<string, unknown>);
    if (!issues.length) return undefined;
    return this.refuse(
      method,
      path,
      50035,
      'Invalid Form Body',
      issues.map((i) => `${pathText(['data', ...i.path])}: ${i.message}`),
      formErrors(issues, ['data']),
    );
  }

  /** Answers as Discord does (HTTP 400 or 404, which discord.js raises as a DiscordAPIError) and records it. */
  private refuse(
    method: string,
    path: string,
    code: number,
    message: string,
    problems: string[] = [],
    errors?: Record<string, unknown>,
    status = 400,
  ): Response {
    this.violations.push({ method, path, status, code, message, problems, at: Date.now() });
    logger.warn(`Discord would refuse ${method} ${path}: ${code} ${message}`, { problems });
    return json(status, { code, message, ...(errors ? { errors } : {}) });
  }

  private ids() {
    return { id: snowflake(), channelId: '0', applicationId: this.applicationId };
  }

  private createMessage(token: string, data: Partial<APIMessage>): APIMessage {
    const msg = messageFrom(data, this.ids());
    this.messages.set(msg.id, msg);
    this.tokenMessage.set(token, msg.id);
    return msg;
  }

  private editMessage(token: string, data: Partial<APIMessage>): APIMessage {
    const current = this.messageOf(token);
    if (!current) return this.createMessage(token, data);
    const next = this.edited(current, data);
    this.messages.set(next.id, next);
    return next;
  }

  /** A message as an edit would leave it (fields the edit leaves out keep their value). */
  private edited(current: APIMessage | undefined, data: Partial<APIMessage>): APIMessage {
    if (!current) return messageFrom(data, this.ids());
    const loading = ((current.flags ?? 0) & 128) !== 0;
    return {
      ...current,
      ...(data.content !== undefined ? { content: data.content } : loading ? { content: '' } : {}),
      ...(data.embeds !== undefined ? { embeds: data.embeds } : {}),
      ...(data.components !== undefined ? { components: data.components } : {}),
      flags: (current.flags ?? 0) & ~128,
      edited_timestamp: new Date().toISOString(),
    };
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** What a callback of this type asks Discord to show, for the limits check. */
function callbackBody(type: number, data: Partial<APIMessage> & { choices?: unknown }): MessageBody {
  if (type === InteractionResponseType.ApplicationCommandAutocompleteResult)
    return { choices: data.choices } as MessageBody;
  if (
    type === InteractionResponseType.ChannelMessageWithSource ||
    type === InteractionResponseType.UpdateMessage
  )
    return data as MessageBody;
  return {};
}

/** Discord's `errors` tree: `{ data: { embeds: { 0: { title: { _errors: [{ code, message }] } } } } }`. */
function formErrors(issues: LimitIssue[], prefix: string[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const issue of issues) {
    let node = root;
    for (const key of [...prefix, ...issue.path])
      node = (node[String(key)] ??= {}) as Record<string, unknown>;
    const list = (node._errors ??= []) as { code: string; message: string }[];
    list.push({ code: issue.code, message: issue.message });
  }
  return root;
}

function fileNames(form: FormData): string[] {
  const names: string[] = [];
  form.forEach((value) => {
    if (typeof value !== 'string') names.push(value.name);
  });
  return names;
}

async function fileContents(form: FormData): Promise<Buffer[]> {
  const files: Blob[] = [];
  form.forEach((value) => {
    if (typeof value !== 'string') files.push(value);
  });
  return Promise.all(files.map(async (f) => Buffer.from(await f.arrayBuffer())));
}

/** Request bodies arrive as JSON text, or as multipart form data with a payload_json part. */
async function readBody(body: unknown): Promise<Record<string, unknown> | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return JSON.parse(body) as Record<string, unknown>;
  if (body instanceof FormData) {
    const payload = body.get('payload_json');
    return typeof payload === 'string' ? (JSON.parse(payload) as Record<string, unknown>) : {};
  }
  if (body instanceof Uint8Array)
    return JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;
  return undefined;
}
