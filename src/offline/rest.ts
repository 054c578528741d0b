import { InteractionResponseType, InteractionType, type APIInteraction, type APIMessage } from 'discord.js';
import type { MessageBody } from '../discord/limits.js';
import { errorDetail, logger } from '../base/logger.js';
import { fileContents, fileNames, formErrors, json, readBody } from './http.js';
import { isEmptyMessage, messageIssues, pathText } from './limits.js';
import { OfflineMessages } from './messages.js';
import { modalIssues } from './modal-limits.js';

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

const API_PREFIX = /^\/api\/v\d+/;

/** One request as the fake API reads it. */
interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown> | undefined;
  files: string[] | undefined;
  fileData: Buffer[] | undefined;
}

/**
 * Discord's REST API as the bot uses it (interaction responses, webhook edits and follow-ups,
 * channel posts and edits), answered as Discord would, limits and the 3-second window included,
 * and every call captured.
 */
export class FakeDiscordRest {
  readonly calls: CapturedCall[] = [];
  /** Requests Discord would have refused; tests assert there are none. */
  readonly violations: Violation[] = [];
  readonly messages: OfflineMessages;
  /** Interaction tokens that already got their one initial response. */
  private readonly acknowledged = new Set<string>();
  /** The interaction type of each token, for what Discord allows as its response (a modal). */
  private readonly tokenType = new Map<string, number>();
  /** When each interaction arrived, by token, until its first response was attempted. */
  private readonly arrived = new Map<string, number>();
  /** Tokens whose window passed without a first response: Discord no longer knows them. */
  private readonly expired = new Set<string>();
  /** Channel posts sent with enforce_nonce, by `<channel>:<nonce>`: the message each created. */
  private readonly nonces = new Map<string, string>();
  /** Called for calls made outside any dispatch (timers such as a confirmation expiring). */
  onBackgroundCall: ((call: CapturedCall) => void) | undefined;

  constructor(
    applicationId: string,
    private readonly firstResponseWindowMs: number,
    /** Whether an interaction is being handled (else a call comes from a timer). */
    private readonly busy: () => boolean,
  ) {
    this.messages = new OfflineMessages(applicationId);
  }

  /** An interaction sent to the bot: its window for a first response starts now. */
  arrive(payload: APIInteraction): void {
    if (payload.type === InteractionType.MessageComponent && payload.message)
      this.messages.bind(payload.token, payload.message.id);
    this.tokenType.set(payload.token, payload.type);
    this.arrived.set(payload.token, Date.now());
  }

  /** Tokens of the interactions sent that have had no first response yet (nor a refused late one). */
  unanswered(): string[] {
    return [...this.arrived.keys()];
  }

  /** What discord.js's REST client calls instead of fetch. */
  async handle(url: string, init: { method?: string; body?: unknown }): Promise<Response> {
    const { pathname, searchParams } = new URL(url);
    const req: Request = {
      method: (init.method ?? 'GET').toUpperCase(),
      path: decodeURIComponent(pathname).replace(API_PREFIX, ''),
      query: searchParams,
      body: await readBody(init.body),
      files: init.body instanceof FormData ? fileNames(init.body) : undefined,
      fileData: init.body instanceof FormData ? await fileContents(init.body) : undefined,
    };
    try {
      return this.route(req);
    } catch (err) {
      logger.error(`Offline Discord could not answer ${req.method} ${req.path}`, errorDetail(err));
      return json(500, { message: 'offline console error', code: 0 });
    }
  }

  private route(req: Request): Response {
    const { method, path } = req;
    let m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path);
    if (m && method === 'POST') return this.callback(req, m[1] ?? '', m[2] ?? '');
    m = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/.exec(path);
    if (m) {
      const token = m[2] ?? '';
      if (method === 'PATCH') return this.editOriginal(req, token);
      if (method === 'GET') return json(200, this.messages.of(token) ?? {});
      if (method === 'DELETE') return new Response(null, { status: 204 });
    }
    m = /^\/webhooks\/(\d+)\/([^/]+)$/.exec(path);
    if (m && method === 'POST') return this.post(req, 'followUp', m[2], '0');
    m = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (m && method === 'POST') return this.post(req, 'channelMessage', undefined, m[1] ?? '0');
    m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path);
    if (m && method === 'PATCH') return this.editInChannel(req, m[1] ?? '', m[2] ?? '');
    this.record(req, 'other', undefined);
    return json(404, { message: `Offline console: no fake for ${method} ${path}`, code: 0 });
  }

  /** An interaction's first response: once, within its window, within Discord's limits. */
  private callback(req: Request, interactionId: string, token: string): Response {
    const type = Number(req.body?.type);
    const data = (req.body?.data ?? {}) as Partial<APIMessage>;
    if (this.acknowledged.has(token))
      return this.refuse(req, 40060, 'Interaction has already been acknowledged.');
    const arrived = this.arrived.get(token);
    const afterMs = arrived === undefined ? undefined : Date.now() - arrived;
    // Past the window Discord has already told the user the application did not respond.
    if (this.expired.has(token) || (afterMs !== undefined && afterMs > this.firstResponseWindowMs)) {
      this.arrived.delete(token);
      this.expired.add(token);
      const why =
        afterMs === undefined
          ? `the interaction's ${this.firstResponseWindowMs} ms window for a first response had passed`
          : `first response ${afterMs} ms after the interaction arrived; Discord waits ${this.firstResponseWindowMs} ms`;
      return this.refuse(req, 10062, 'Unknown interaction', [why], undefined, 404);
    }
    if (type === InteractionResponseType.Modal) {
      const refused = this.refuseBadModal(req, token, req.body?.data);
      if (refused) return refused;
    }
    const refused = this.refuseBadBody(req, callbackBody(type, data), ['data'], () =>
      type === InteractionResponseType.ChannelMessageWithSource
        ? isEmptyMessage(data as MessageBody)
        : type === InteractionResponseType.UpdateMessage &&
          isEmptyMessage(this.messages.edited(this.messages.of(token), data)),
    );
    if (refused) return refused;
    this.acknowledged.add(token);
    this.arrived.delete(token);
    const shown = data as Record<string, unknown>;
    let message: APIMessage | undefined;
    if (type === InteractionResponseType.ChannelMessageWithSource) {
      this.record(req, 'reply', token, shown, afterMs);
      message = this.messages.create(token, data);
    } else if (type === InteractionResponseType.DeferredChannelMessageWithSource) {
      this.record(req, 'defer', token, shown, afterMs);
      message = this.messages.create(token, { ...data, flags: (data.flags ?? 0) | 128 });
    } else if (type === InteractionResponseType.UpdateMessage) {
      this.record(req, 'update', token, shown, afterMs);
      message = this.messages.edit(token, data);
    } else if (type === InteractionResponseType.DeferredMessageUpdate) {
      this.record(req, 'deferUpdate', token, shown, afterMs);
    } else if (type === InteractionResponseType.ApplicationCommandAutocompleteResult) {
      this.record(req, 'autocomplete', token, shown, afterMs);
    } else if (type === InteractionResponseType.Modal) {
      this.record(req, 'modal', token, shown, afterMs);
    } else {
      this.record(req, 'other', token, req.body, afterMs);
    }
    if (req.query.get('with_response') !== 'true') return new Response(null, { status: 204 });
    return json(200, {
      interaction: { id: interactionId, type },
      resource: { type, ...(message ? { message } : {}) },
    });
  }

  /** editReply: the interaction's own message changed. */
  private editOriginal(req: Request, token: string): Response {
    const sent = (req.body ?? {}) as Partial<APIMessage>;
    const refused = this.refuseBadBody(req, sent as MessageBody, [], () =>
      isEmptyMessage(this.messages.edited(this.messages.of(token), sent), req.files?.length),
    );
    if (refused) return refused;
    this.record(req, 'editReply', token);
    return json(200, this.messages.edit(token, sent));
  }

  /** A new message: a follow-up of an interaction, or a post in a channel. */
  private post(
    req: Request,
    kind: 'followUp' | 'channelMessage',
    token: string | undefined,
    channelId: string,
  ): Response {
    const sent = (req.body ?? {}) as MessageBody;
    const nonce = kind === 'channelMessage' ? req.body?.nonce : undefined;
    if (typeof nonce === 'string' && nonce.length > 25)
      return this.refuse(req, 50035, 'Invalid Form Body', ['nonce: Must be 25 or fewer in length.']);
    // Discord's enforce_nonce: the same nonce again in the channel returns the message it created.
    const once =
      req.body?.enforce_nonce === true && nonce !== undefined ? `${channelId}:${String(nonce)}` : '';
    const earlier = once ? this.messages.byId.get(this.nonces.get(once) ?? '') : undefined;
    if (earlier) return json(200, earlier);
    const refused = this.refuseBadBody(req, sent, [], () => isEmptyMessage(sent, req.files?.length));
    if (refused) return refused;
    this.record(req, kind, token);
    const message = this.messages.add(sent as Partial<APIMessage>, channelId);
    if (once) this.nonces.set(once, message.id);
    return json(200, message);
  }

  /** A channel message edited (a change request's post, an alert). */
  private editInChannel(req: Request, channelId: string, messageId: string): Response {
    const current = this.messages.byId.get(messageId);
    if (!current || current.channel_id !== channelId) {
      this.record(req, 'other', undefined);
      return json(404, { message: 'Unknown Message', code: 10008 });
    }
    const sent = (req.body ?? {}) as Partial<APIMessage>;
    const refused = this.refuseBadBody(req, sent as MessageBody, [], () =>
      isEmptyMessage(this.messages.edited(current, sent), req.files?.length),
    );
    if (refused) return refused;
    this.record(req, 'channelEdit', undefined);
    return json(200, this.messages.replace(current, sent));
  }

  private record(
    req: Request,
    kind: CallKind,
    token: string | undefined,
    data = req.body,
    afterMs?: number,
  ): void {
    const call: CapturedCall = {
      kind,
      method: req.method,
      path: req.path,
      body: data,
      token,
      at: Date.now(),
      ...(afterMs !== undefined ? { afterMs } : {}),
      ...(req.files ? { files: req.files } : {}),
      ...(req.fileData ? { fileData: req.fileData } : {}),
    };
    this.calls.push(call);
    if (!this.busy()) this.onBackgroundCall?.(call);
  }

  /**
   * Discord's 400 for a body over its limits (50035, with the errors tree it sends) or with
   * nothing to show (50006); undefined when the body is fine. `prefix` is where the message sits
   * in the request (`data` of an interaction callback).
   */
  private refuseBadBody(
    req: Request,
    body: MessageBody,
    prefix: string[],
    empty: () => boolean,
  ): Response | undefined {
    const issues = messageIssues(body);
    if (issues.length)
      return this.refuse(
        req,
        50035,
        'Invalid Form Body',
        issues.map((i) => `${pathText([...prefix, ...i.path])}: ${i.message}`),
        formErrors(issues, prefix),
      );
    if (empty()) return this.refuse(req, 50006, 'Cannot send an empty message');
    return undefined;
  }

  /**
   * Discord's 400 for a modal it would not show: over its limits (50035, see modalIssues), or as
   * the answer to an interaction that cannot open one (a modal submit, an autocomplete).
   */
  private refuseBadModal(req: Request, token: string, data: unknown): Response | undefined {
    const from = this.tokenType.get(token);
    if (from !== InteractionType.ApplicationCommand && from !== InteractionType.MessageComponent)
      return this.refuse(req, 50035, 'Invalid Form Body', [
        `type: a modal answers only a command or a component interaction (this is type ${String(from)})`,
      ]);
    const issues = modalIssues((data ?? {}) as Record<string, unknown>);
    if (!issues.length) return undefined;
    return this.refuse(
      req,
      50035,
      'Invalid Form Body',
      issues.map((i) => `${pathText(['data', ...i.path])}: ${i.message}`),
      formErrors(issues, ['data']),
    );
  }

  /** Answers as Discord does (HTTP 400 or 404, which discord.js raises as a DiscordAPIError) and records it. */
  private refuse(
    req: Request,
    code: number,
    message: string,
    problems: string[] = [],
    errors?: Record<string, unknown>,
    status = 400,
  ): Response {
    const { method, path } = req;
    this.violations.push({ method, path, status, code, message, problems, at: Date.now() });
    logger.warn(`Discord would refuse ${method} ${path}: ${code} ${message}`, { problems });
    return json(status, { code, message, ...(errors ? { errors } : {}) });
  }
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
