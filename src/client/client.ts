import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { Backoff } from './backoff.js';
import { CacheFile, type CacheRequest } from './cache-file.js';
import { followEvents, type StreamHandlers } from './events-stream.js';
import { ConfigClientFatalError, ConfigClientUnavailableError, ConfigHttp, networkReason } from './http.js';
import { Listeners } from './listeners.js';
import { Memory, type AppliedChange } from './memory.js';
import { Reporter, type ReportBody } from './reporter.js';
import { startFromFile } from './start-from-file.js';
import type {
  ChangeListener,
  ClientEvents,
  ConfigChange,
  ConfigClientOptions,
  ValueSource,
  WireChange,
} from './types.js';

export interface ClientStatus {
  /** Values are loaded (from the API or the last-known-good file). */
  ready: boolean;
  source: ValueSource | undefined;
  /** The change-stream position applied. */
  seq: number | undefined;
  /** The event stream is open. */
  connected: boolean;
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
  private readonly memory: Memory;
  private readonly http: ConfigHttp;
  private readonly cache: CacheFile | undefined;
  private readonly backoff: Backoff;
  private readonly reporter: Reporter;
  private readonly subscribers = new Listeners();
  private readonly request: CacheRequest;
  private readonly abort = new AbortController();
  private readonly idleTimeoutMs: number;
  private readonly readyPromise: Promise<void>;
  private settleReady: ((err?: Error) => void) | undefined;
  private source: ValueSource | undefined;
  private needSnapshot = true;
  private connected = false;
  private outage = false;
  private closing: Promise<void> | undefined;
  private readonly running: Promise<void>;

  constructor(private readonly options: ConfigClientOptions) {
    super();
    if (!options.token) throw new TypeError('ConfigClient: `token` is required (an API token)');
    const keys = options.keys ? [...new Set(options.keys)].sort() : undefined;
    this.memory = new Memory(keys ? new Set(keys) : undefined);
    this.http = new ConfigHttp({
      url: options.url,
      token: options.token,
      ...(options.env ? { env: options.env } : {}),
      ...(options.guild ? { guild: options.guild } : {}),
      ...(keys ? { keys } : {}),
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      fetch: options.fetch ?? fetch,
    });
    this.request = { env: options.env ?? null, guild: options.guild ?? null, keys: keys ?? null };
    if (options.cacheFile)
      this.cache = new CacheFile(options.cacheFile, options.token, this.request, (err) =>
        this.warn(`Could not write the last-known-good file ${options.cacheFile}: ${networkReason(err)}`),
      );
    this.backoff = new Backoff(options.backoff?.minMs ?? 500, options.backoff?.maxMs ?? 30_000);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
    this.reporter = new Reporter({
      intervalMs: options.reportIntervalMs ?? 5_000,
      body: () => this.reportBody(),
      send: (body, signal) => this.http.report(body, signal),
      warn: (message) => this.warn(message),
    });
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    // An application that never awaits ready() must not get an unhandled rejection.
    this.readyPromise.catch(() => undefined);
    this.reporter.start();
    this.running = this.run();
  }

  /**
   * Resolves once values are loaded: from the API, or from the last-known-good file when the API
   * cannot be reached (the client keeps trying in the background). Rejects with one line naming
   * what to fix when neither is available, and at once when the API refuses the token.
   */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** The value in memory; undefined when not loaded, unknown, or sensitive and masked for this token. */
  get<K extends keyof Values & string>(key: K): Values[K] | undefined;
  /** The value in memory, or `fallback` when there is none. */
  get<K extends keyof Values & string>(key: K, fallback: Values[K]): Values[K];
  get(key: string, fallback?: unknown): unknown {
    const found = this.memory.value(key);
    return found.found ? found.value : fallback;
  }

  /** Every value in memory (masked ones left out). */
  getAll(): Partial<Values> {
    return this.memory.all() as Partial<Values>;
  }

  /**
   * Calls `listener` after each applied change of `keys` (every key when undefined); returns the
   * function that unsubscribes. A listener that throws (or rejects) is reported as `error`.
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
      source: this.source,
      seq: this.memory.seq,
      connected: this.connected,
    };
  }

  /** Stops the stream, timers and reports, and writes the last-known-good file one last time. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort();
      this.settle(new Error('The configuration client was closed before its values were loaded'));
      this.subscribers.clear();
      await this.running;
      await this.reporter.stop();
      await this.cache?.flush();
      this.connected = false;
    })();
    return this.closing;
  }

  private get closed(): boolean {
    return this.abort.signal.aborted;
  }

  /** Snapshot when needed, then the stream, forever; never throws. */
  private async run(): Promise<void> {
    while (!this.closed) {
      let reason: string;
      try {
        const fresh = this.needSnapshot;
        if (fresh) await this.loadSnapshot();
        const end = await followEvents(
          this.http,
          this.memory.seq ?? 0,
          this.abort.signal,
          this.idleTimeoutMs,
          this.handlers,
        );
        if (end.kind === 'resync') {
          // The server no longer holds the changes after our position: start again from a snapshot
          // (at once, unless it says so even right after one: then back off like any failure).
          this.needSnapshot = true;
          if (fresh)
            throw new ConfigClientUnavailableError('the server asked for a resync right after a snapshot');
          continue;
        }
        reason = 'the server closed the event stream';
      } catch (err) {
        if (this.closed) break;
        if (err instanceof ConfigClientFatalError) {
          this.stopOnRefusal(err);
          break;
        }
        reason =
          err instanceof Error && err.name.startsWith('ConfigClient') ? err.message : networkReason(err);
        // Only the first failure decides how ready() settles; later ones are retried quietly.
        if (this.settleReady && !this.memory.loaded) await this.startFromFile(reason);
      }
      if (this.closed) break;
      const delay = this.backoff.next();
      this.lost(reason, delay);
      await this.sleep(delay);
    }
  }

  private async loadSnapshot(): Promise<void> {
    const snapshot = await this.http.snapshot(this.abort.signal);
    if (this.closed) return;
    const changes = this.memory.applySnapshot(snapshot);
    this.needSnapshot = false;
    this.source = 'api';
    this.settle();
    this.applied(changes);
  }

  private async startFromFile(reason: string): Promise<void> {
    const unreachable = `Cannot reach the configuration API at ${this.http.origin} (${reason})`;
    const start = await startFromFile(this.cache, unreachable, this.request);
    if (this.closed) return;
    if (!start.ok) return this.refuseStart(start.message);
    this.memory.load(start.cached.entries, start.cached.seq);
    this.source = 'last-known-good';
    this.needSnapshot = start.needSnapshot;
    this.outage = true;
    for (const warning of start.warnings) this.warn(warning);
    this.settle();
  }

  /** Resolves or rejects ready() the first time only. */
  private settle(err?: Error): void {
    this.settleReady?.(err);
    this.settleReady = undefined;
  }

  /** ready() rejects with the one line; the client still retries (close() it to give up). */
  private refuseStart(message: string): void {
    this.outage = true;
    this.settle(new Error(message));
  }

  private stopOnRefusal(err: ConfigClientFatalError): void {
    // Retrying cannot fix a refused token or request; values in memory stay in force.
    this.settle(err);
    this.connected = false;
    void this.reporter.stop();
    this.fail(err);
  }

  private readonly handlers: StreamHandlers = {
    open: () => {
      this.outage = false;
      const was = this.connected;
      this.connected = true;
      this.reporter.now();
      if (!was) this.safeEmit('connected', { seq: this.memory.seq ?? 0 });
    },
    healthy: () => this.backoff.reset(),
    change: (wire: WireChange) => {
      const result = this.memory.applyChange(wire);
      if (result === 'duplicate') return;
      this.applied(result === 'position' ? [] : [result]);
    },
    checkpoint: (seq) => {
      if (this.memory.applyCheckpoint(seq)) this.applied([]);
    },
    warn: (message) => this.warn(message),
  };

  /** After values or the position moved: tell listeners, then write the file and report. */
  private applied(changes: AppliedChange[]): void {
    for (const change of changes) this.notify(change);
    this.cache?.schedule(() => ({ seq: this.memory.seq ?? 0, entries: this.memory.list() }));
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

  private lost(reason: string, retryInMs: number): void {
    if (this.connected) {
      this.connected = false;
      this.safeEmit('disconnected', { reason, retryInMs });
    }
    if (!this.outage) {
      this.outage = true;
      this.warn(`Lost the configuration API (${reason}); values in memory stay in force, reconnecting`);
    }
  }

  private reportBody(): ReportBody | undefined {
    // While the stream is down the API is most likely unreachable: no report to fail every interval.
    const seq = this.memory.seq;
    if (seq === undefined || !this.connected) return undefined;
    // Cut to the API's limits: a report refused for a long name would only ever warn.
    return {
      id: this.id,
      name: (this.options.name ?? basename(process.argv[1] ?? process.argv0)).slice(0, 100),
      host: hostname().slice(0, 255),
      pid: process.pid,
      ...(this.options.version ? { version: this.options.version.slice(0, 50) } : {}),
      applied: seq,
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
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
      const detail = err instanceof Error ? err.message : String(err);
      if (event === 'error') process.emitWarning(detail, 'ConfigClientError');
      else this.fail(new Error(`A '${String(event)}' handler of the configuration client threw: ${detail}`));
    }
  }
}

/** Creates a client and starts it; the same as `new ConfigClient<Values>(options)`. */
export function createConfigClient<Values extends object = Record<string, unknown>>(
  options: ConfigClientOptions,
): ConfigClient<Values> {
  return new ConfigClient<Values>(options);
}
