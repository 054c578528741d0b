import {
  Client,
  Events,
  GatewayDispatchEvents,
  GatewayOpcodes,
  Status,
  type APIInteraction,
  type APIMessage,
  type BaseInteraction,
  type GatewayInteractionCreateDispatch,
  type ResponseLike,
} from 'discord.js';
import { createInteractionHandler } from '../discord/dispatcher.js';
import type { Command, CommandContext } from '../discord/types.js';
import { gatewayOf, type GatewayInjector } from './gateway.js';
import { FakeDiscordRest, FIRST_RESPONSE_WINDOW_MS, type CapturedCall, type Violation } from './rest.js';
import { LoopbackUploads } from './uploads.js';

export interface HarnessOptions {
  /** Discord's window for the first response (FIRST_RESPONSE_WINDOW_MS). */
  firstResponseWindowMs?: number;
  /**
   * Sends the REST calls over HTTP to a Discord-shaped server at this base URL (discord.js's
   * `api` option, as DISCORD_API_URL sets it) instead of answering them in the process: the fault
   * suite's loopback Discord (scripts/chaos/discord-rest-server.ts), which serves a
   * FakeDiscordRest of its own. `calls`, `messages` and `violations` are then that server's, and
   * stay empty here.
   */
  api?: { url: string; timeoutMs?: number; retries?: number };
}

/**
 * A real discord.js Client that never connects: raw interaction payloads enter through the same
 * gateway packet handler a live connection feeds, the bot's handler runs as in production, and
 * every REST call it makes is captured (and answered as Discord would, see rest.ts) instead of
 * being sent.
 */
export class OfflineDiscord {
  readonly client: Client;
  /** Files users attach to attachment options, served on 127.0.0.1 like Discord's CDN. */
  readonly uploads = new LoopbackUploads();
  private readonly rest: FakeDiscordRest;
  private readonly inflight = new Set<Promise<void>>();
  private sequence = 0;
  private readonly gateway: GatewayInjector;

  constructor(
    readonly commands: ReadonlyMap<string, Command>,
    ctx: CommandContext,
    readonly applicationId: string,
    options: HarnessOptions = {},
  ) {
    this.rest = new FakeDiscordRest(
      applicationId,
      options.firstResponseWindowMs ?? FIRST_RESPONSE_WINDOW_MS,
      () => this.inflight.size > 0,
    );
    this.client = new Client({
      intents: [],
      // The cast: preact's JSX types load the DOM lib, whose Response types its body as the DOM's
      // ReadableStream; at run time it is Node's, which discord.js reads.
      rest: options.api
        ? {
            api: options.api.url,
            ...(options.api.timeoutMs !== undefined ? { timeout: options.api.timeoutMs } : {}),
            ...(options.api.retries !== undefined ? { retries: options.api.retries } : {}),
          }
        : {
            makeRequest: async (url, init) => (await this.rest.handle(url, init)) as unknown as ResponseLike,
          },
    });
    // Requests that need the bot token (channel posts) get a dummy one: nothing goes further than
    // this process, or the loopback server that `api` names.
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

  /** Every REST call the bot made, in order. */
  get calls(): CapturedCall[] {
    return this.rest.calls;
  }

  /** Messages the bot created, by id, as Discord now shows them. */
  get messages(): Map<string, APIMessage> {
    return this.rest.messages.byId;
  }

  /** Requests Discord would have refused; tests assert there are none. */
  get violations(): Violation[] {
    return this.rest.violations;
  }

  /** Called for calls made outside any dispatch (timers such as a confirmation expiring). */
  get onBackgroundCall(): ((call: CapturedCall) => void) | undefined {
    return this.rest.onBackgroundCall;
  }

  set onBackgroundCall(listener: ((call: CapturedCall) => void) | undefined) {
    this.rest.onBackgroundCall = listener;
  }

  /** Feeds one raw interaction through the gateway path and waits until the bot has handled it. */
  async dispatch(payload: APIInteraction): Promise<CapturedCall[]> {
    const from = this.calls.length;
    this.rest.arrive(payload);
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
    return this.rest.unanswered();
  }

  /** The message an interaction's reply created or edited, as Discord would now show it. */
  messageOf(token: string): APIMessage | undefined {
    return this.rest.messages.of(token);
  }

  async destroy(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
    await this.client.destroy();
    await this.uploads.close();
  }
}
