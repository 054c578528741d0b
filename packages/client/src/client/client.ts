import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Explanation, FlagVariant } from '../flags/evaluate.js';
import type { FlagContext } from '../flags/model.js';
import { Backoff } from './backoff.js';
import { CacheFile } from './cache-file.js';
import { FlagErrorBatch } from './flag-errors.js';
import { ClientFlags } from './flags.js';
import { Follower } from './follower.js';
import { ConfigClientFatalError, ConfigHttp, errorReason } from './http.js';
import { Listeners } from './listeners.js';
import { Memory, type AppliedChange } from './memory.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import type { WireFlag } from '../wire.js';
import { Reporter, type ReportBody } from './reporter.js';
import type {
  ChangeListener,
  ClientEvents,
  ConfigChange,
  ConfigClientOptions,
  ValueSource,
} from './types.js';

export interface ClientStatus {
  /** Values are loaded (from the API or the last-known-good file). */
  ready: boolean;
  source: ValueSource | undefined;
  /** The change-stream position applied. */
  seq: number | undefined;
  /** The event stream is open. */
  connected: boolean;
  /** The environment and guild the values were resolved for (undefined before loading). */
  environment: string | undefined;
  guild: string | null | undefined;
  /** How many flags are held (archived ones included). */
  flags: number;
}

/**
 * Reads an application's configuration from the config-bot HTTP API: loads a snapshot, follows
 * `/v1/events`, keeps every value in memory (`get` never does I/O) and a last-known-good file to
 * start from while the API is unreachable. Background work never throws: it emits `error` (a
 * refusal it cannot retry, a listener that threw) and `warn` (an outage it rides out), or, with no
 * listener, a process warning.
 *
 * @typeParam Values the keys the application reads and their types, e.g.
 *   `ConfigClient<{ MAX_BATCH_SIZE: number }>`; default: any key, unknown values.
 */
export class ConfigClient<Values extends object = Record<string, unknown>> extends EventEmitter<
  ClientEvents<Values>
> {
  /** This process's instance id in `GET /v1/instances`. */
  readonly id = randomUUID();
  private readonly options: ResolvedOptions;
  private readonly memory: Memory;
  private readonly flagsHeld: ClientFlags;
  private readonly flagErrors: FlagErrorBatch;
  private readonly cache: CacheFile | undefined;
  private readonly reporter: Reporter;
  private readonly follower: Follower;
  private readonly subscribers = new Listeners();
  private readonly abort = new AbortController();
  private readonly readyPromise: Promise<void>;
  private settleReady: ((err?: Error) => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly running: Promise<void>;

  /** Throws a TypeError naming every wrong option (a missing token, a delay that is not above 0...). */
  constructor(options: ConfigClientOptions) {
    // A handler that returns a rejected promise comes to [captureRejectionSymbol], not unhandled.
    super({ captureRejections: true });
    const o = (this.options = resolveOptions(options));
    this.memory = new Memory(o.keys ? new Set(o.keys) : undefined);
    this.flagsHeld = new ClientFlags({ env: o.env, guild: o.guild });
    const http = new ConfigHttp({
      url: o.url,
      token: o.token,
      ...(o.env ? { env: o.env } : {}),
      ...(o.guild ? { guild: o.guild } : {}),
      ...(o.keys ? { keys: o.keys } : {}),
      requestTimeoutMs: o.requestTimeoutMs,
      fetch: o.fetch,
    });
    const request = { env: o.env, guild: o.guild, keys: o.keys };
    if (o.cacheFile)
      this.cache = new CacheFile({ path: o.cacheFile, token: o.token, request, api: http.origin }, (err) =>
        this.warn(`Could not write the last-known-good file ${o.cacheFile}: ${errorReason(err)}`),
      );
    this.reporter = new Reporter({
      intervalMs: o.reportIntervalMs,
      body: () => this.reportBody(),
      send: (body, signal) => http.report(body, signal),
      unsent: (body, err) => {
        // Sent again with the next report, unless the API refused them (sending them again would
        // only be refused again).
        if (body.evaluations && !(err instanceof ConfigClientFatalError))
          this.flagsHeld.giveBack(body.evaluations);
      },
      warn: (message) => this.warn(message),
    });
    this.flagErrors = new FlagErrorBatch({
      send: (name, count, signal) => http.flagErrors(name, count, signal),
      killed: (result) =>
        this.warn(
          `Flag ${result.name} was switched off automatically: ${result.errors ?? result.counted} errors reported (threshold ${result.threshold?.errors ?? '?'})`,
        ),
      warn: (message) => this.warn(message),
    });
    this.follower = new Follower(
      {
        http,
        memory: this.memory,
        flags: this.flagsHeld,
        cache: this.cache,
        wanted: { ...request, api: http.origin },
        backoff: new Backoff(o.backoff.minMs, o.backoff.maxMs),
        idleTimeoutMs: o.idleTimeoutMs,
        signal: this.abort.signal,
      },
      {
        applied: (changes) => this.applied(changes),
        flagsChanged: (changes) => {
          for (const change of changes) this.safeEmit('flag', change);
        },
        settle: (err) => this.settle(err),
        opened: (reconnected) => {
          this.reporter.now();
          if (reconnected) this.safeEmit('connected', { seq: this.memory.seq ?? 0 });
        },
        disconnected: (reason, retryInMs) => this.safeEmit('disconnected', { reason, retryInMs }),
        refused: (err) => {
          // Retrying cannot fix a refused token or request; values in memory stay in force.
          void this.reporter.stop();
          this.fail(err);
        },
        failed: (err) => this.fail(err),
        warn: (message) => this.warn(message),
      },
    );
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    // An application that never awaits ready() must not get an unhandled rejection.
    this.readyPromise.catch(() => undefined);
    this.reporter.start();
    this.running = this.follower.run();
  }

  /**
   * Resolves once values are loaded: from the API, or from the last-known-good file when the API
   * cannot be reached (the client keeps trying in the background). Rejects with one line naming
   * what to fix when neither is available, and at once when the API refuses the token, the
   * request, or a key it does not have.
   */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * The value in memory; undefined when not loaded, unknown, or sensitive and masked for this token.
   * Keys are matched as the API spells them (upper case).
   */
  get<K extends keyof Values & string>(key: K): Values[K] | undefined;
  /** The value in memory, or `fallback` when there is none. */
  get<K extends keyof Values & string>(key: K, fallback: Values[K]): Values[K];
  get(key: string, fallback?: unknown): unknown {
    const found = this.memory.value(key);
    return found.found ? found.value : fallback;
  }

  /**
   * The value of any key, untyped, and whether there is one (for integrations such as the
   * OpenFeature provider): not found before loading, for an unknown key, or masked for this token.
   */
  read(key: string): { found: true; value: unknown } | { found: false } {
    return this.memory.value(key);
  }

  /**
   * Whether the flag is on for this context: a memory read (no request), never throws; unknown
   * flags are off. The context's `environment` defaults to the client's `env` (else the server's
   * environment), its `guildId` to the client's `guild`. Counted for the evaluation reports.
   */
  isEnabled(name: string, context?: FlagContext): boolean {
    return this.flagsHeld.isEnabled(name, context);
  }

  /** The flag's variant for this context (Unleash's choice); `disabled` when the flag is off. Counted. */
  variant(name: string, context?: FlagContext): FlagVariant {
    return this.flagsHeld.variant(name, context);
  }

  /** The rule that decided for this context and what it looked at, for people; not counted. */
  explainFlag(name: string, context?: FlagContext): Explanation {
    return this.flagsHeld.explain(name, context);
  }

  /** The flag held under this name (archived included), with its version; frozen. */
  flag(name: string): WireFlag | undefined {
    return this.flagsHeld.get(name);
  }

  /** Every flag held (archived ones included), by name, with its version; frozen. */
  flags(): WireFlag[] {
    return this.flagsHeld.list();
  }

  /**
   * Counts `count` errors against a flag, for its automatic kill (`errorThreshold`). Batched: sent
   * as one request per flag at most about once a second; never throws, failures are retried.
   */
  reportError(flag: string, count = 1): void {
    this.flagErrors.add(flag, count);
  }

  /** Every value in memory (masked ones left out). */
  getAll(): Partial<Values> {
    return this.memory.all() as Partial<Values>;
  }

  /**
   * Calls `listener` after each applied change of `keys` (every key when undefined; any case);
   * returns the function that unsubscribes. A listener that throws (or rejects) is reported as `error`.
   */
  subscribe<K extends keyof Values & string>(
    keys: readonly K[] | undefined,
    listener: ChangeListener<Values, K>,
  ): () => void {
    return this.subscribers.add(keys, listener as unknown as Parameters<Listeners['add']>[1]);
  }

  status(): ClientStatus {
    return {
      ready: this.memory.loaded,
      source: this.follower.source,
      seq: this.memory.seq,
      connected: this.follower.connected,
      environment: this.memory.resolved?.environment,
      guild: this.memory.resolved?.guild,
      flags: this.flagsHeld.size,
    };
  }

  /**
   * Stops the stream, timers and reports, and writes the last-known-good file one last time. The
   * API has no "stopped" state for clients: the process shows as gone once its reports stop.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort();
      this.settle(new Error('The configuration client was closed before its values were loaded'));
      this.subscribers.clear();
      await this.running;
      await this.reporter.stop();
      await this.flagErrors.stop();
      await this.cache?.flush();
    })();
    return this.closing;
  }

  /**
   * A handler of this client's events returned a rejected promise (captureRejections): reported
   * as `error`, or as a process warning when the `error` handler itself rejected, so it cannot loop.
   */
  override [EventEmitter.captureRejectionSymbol]<K>(
    err: Error,
    event: keyof ClientEvents<Values> | K,
    ..._args: unknown[]
  ): void {
    this.handlerFailed(event, err, 'rejected');
  }

  /** Resolves or rejects ready() the first time only. */
  private settle(err?: Error): void {
    this.settleReady?.(err);
    this.settleReady = undefined;
  }

  /** After values or the position moved: tell listeners, then write the file and report. */
  private applied(changes: AppliedChange[]): void {
    for (const change of changes) this.notify(change);
    this.cache?.schedule(() => {
      const state = this.memory.state();
      return state && { ...state, flags: this.flagsHeld.state() };
    });
    this.reporter.now();
  }

  private notify(change: AppliedChange): void {
    // One object goes to every listener: none may alter what the next one sees.
    Object.freeze(change);
    this.safeEmit('change', change as ConfigChange<Values>);
    this.subscribers.notify(change, (key, err) => this.listenerFailed(key, err));
  }

  private listenerFailed(key: string, err: unknown): void {
    const detail = err instanceof Error ? err.message : String(err);
    this.fail(new Error(`A configuration listener for ${key} threw: ${detail}`, { cause: err }));
  }

  private reportBody(): ReportBody | undefined {
    // While the stream is down the API is most likely unreachable: no report to fail every interval.
    const seq = this.memory.seq;
    if (seq === undefined || !this.follower.connected) return undefined;
    const evaluations = this.flagsHeld.takeCounts();
    return {
      id: this.id,
      name: this.options.name,
      host: hostname().slice(0, 255),
      pid: process.pid,
      ...(this.options.version ? { version: this.options.version } : {}),
      applied: seq,
      ...(Object.keys(evaluations).length ? { evaluations } : {}),
    };
  }

  private warn(message: string): void {
    if (this.listenerCount('warn') > 0) this.safeEmit('warn', message);
    else process.emitWarning(message, 'ConfigClientWarning');
  }

  private fail(err: Error): void {
    if (this.listenerCount('error') > 0) this.safeEmit('error', err);
    else process.emitWarning(err.message, 'ConfigClientError');
  }

  /** Emits without letting an application's event handler throw into the client's own work. */
  private safeEmit<E extends keyof ClientEvents<Values>>(event: E, ...args: ClientEvents<Values>[E]): void {
    try {
      (this.emit as (event: E, ...args: ClientEvents<Values>[E]) => boolean)(event, ...args);
    } catch (err) {
      this.handlerFailed(event, err, 'threw');
    }
  }

  /** An `error` handler that fails goes to stderr, never back to `error`. */
  private handlerFailed(event: unknown, err: unknown, how: 'threw' | 'rejected'): void {
    const detail = err instanceof Error ? err.message : String(err);
    const message = `A handler of the configuration client's '${String(event)}' event ${how}: ${detail}`;
    if (event === 'error') process.emitWarning(message, 'ConfigClientError');
    else this.fail(new Error(message, { cause: err }));
  }
}

/** Creates a client and starts it; the same as `new ConfigClient<Values>(options)`. */
export function createConfigClient<Values extends object = Record<string, unknown>>(
  options: ConfigClientOptions,
): ConfigClient<Values> {
  return new ConfigClient<Values>(options);
}
