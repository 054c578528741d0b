import type { Backoff } from './backoff.js';
import type { CacheFile } from './cache-file.js';
import { followEvents, type StreamHandlers } from './events-stream.js';
import {
  ConfigClientFatalError,
  ConfigClientUnavailableError,
  errorReason,
  type ConfigHttp,
} from './http.js';
import type { ClientFlags } from './flags.js';
import type { AppliedChange, Memory } from './memory.js';
import { startFromFile, type FileStart, type Wanted } from './start-from-file.js';
import type { WireFlagEvent } from '../wire.js';
import type { FlagChange, ValueSource } from './types.js';

export interface FollowerParts {
  http: ConfigHttp;
  memory: Memory;
  flags: ClientFlags;
  cache: CacheFile | undefined;
  wanted: Wanted;
  backoff: Backoff;
  idleTimeoutMs: number;
  /** The client's: aborted on close(). */
  signal: AbortSignal;
}

/** What the follower tells the client; none of these may throw. */
export interface FollowerEvents {
  /** Values or the position moved (`changes` for listeners, possibly none). */
  applied(changes: AppliedChange[]): void;
  /** Flags changed (after the values of the same snapshot, if any, were applied). */
  flagsChanged(changes: FlagChange[]): void;
  /** Values are loaded (no `err`) or cannot be: ready() settles on the first call. */
  settle(err?: Error): void;
  /** The stream opened; `reconnected` when it was down before. */
  opened(reconnected: boolean): void;
  /** The open stream was lost; the next attempt is in `retryInMs`. */
  disconnected(reason: string, retryInMs: number): void;
  /** A refusal retrying cannot fix: the follower has stopped. */
  refused(err: ConfigClientFatalError): void;
  /** Something the application should fix (a bug of the follower included). */
  failed(err: Error): void;
  warn(message: string): void;
}

/**
 * The start and retry loop: loads a snapshot when one is needed (at start, after a resync, after
 * starting from a file that cannot be resumed), follows the stream, backs off on failures, and
 * starts from the last-known-good file when the API cannot be reached at start.
 */
export class Follower {
  /** Where the values in memory come from. */
  source: ValueSource | undefined;
  /** The event stream is open. */
  connected = false;
  private needSnapshot = true;
  /** ready() has been settled (loaded, or refused at start): later failures are retried quietly. */
  private started = false;
  /** An outage was reported: one warning per outage. */
  private outage = false;
  /** The API was found to have no flags (404): said once. */
  private noFlagsSaid = false;

  constructor(
    private readonly parts: FollowerParts,
    private readonly on: FollowerEvents,
  ) {}

  /** Runs until close() or a refusal; never throws. */
  async run(): Promise<void> {
    try {
      await this.loop();
    } catch (err) {
      // Not an outage (those are retried inside the loop) but a defect: say so, once, and stop.
      const error = new Error(`The configuration client stopped following changes: ${errorReason(err)}`, {
        cause: err,
      });
      this.settle(error);
      this.on.failed(error);
    } finally {
      this.connected = false;
    }
  }

  private get closed(): boolean {
    return this.parts.signal.aborted;
  }

  private async loop(): Promise<void> {
    const { http, memory, signal, backoff, idleTimeoutMs } = this.parts;
    while (!this.closed) {
      let reason: string;
      try {
        const fresh = this.needSnapshot;
        if (fresh) await this.loadSnapshot();
        const end = await followEvents(http, memory.seq ?? 0, signal, idleTimeoutMs, this.handlers);
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
          this.connected = false;
          this.settle(err);
          this.on.refused(err);
          break;
        }
        reason = errorReason(err);
        // Only the first failure decides how ready() settles; later ones are retried quietly.
        if (!this.started) await this.startFromFile(reason);
      }
      if (this.closed) break;
      const delay = backoff.next();
      this.lost(reason, delay);
      await sleep(delay, signal);
    }
  }

  /**
   * The values, then the flags: in that order, so the flags are at or after the values' position
   * and the stream (resumed from the values' position) can only replay flag versions already held.
   */
  private async loadSnapshot(): Promise<void> {
    const { http, signal, memory, flags } = this.parts;
    const snapshot = await http.snapshot(signal);
    const list = await http.flags(signal);
    if (this.closed) return;
    const changes = memory.applySnapshot(snapshot);
    let flagChanges: FlagChange[] = [];
    if (list) {
      for (const skipped of list.skipped) this.on.warn(`Ignored a flag the client cannot read: ${skipped}`);
      flagChanges = flags.load(list.flags.flags, list.flags.environment, snapshot.seq);
    } else if (!this.noFlagsSaid) {
      this.noFlagsSaid = true;
      this.on.warn(
        `The configuration API at ${http.origin} has no flags (GET /v1/flags answered 404, an API older than flags): every flag is off`,
      );
    }
    this.needSnapshot = false;
    this.source = 'api';
    this.settle();
    this.on.applied(changes);
    if (flagChanges.length) this.on.flagsChanged(flagChanges);
  }

  /** Settles ready() from the file, or rejects it saying what to fix; never throws. */
  private async startFromFile(reason: string): Promise<void> {
    const { http, cache, wanted, memory } = this.parts;
    const unreachable = `Cannot reach the configuration API at ${http.origin} (${reason})`;
    let start: FileStart;
    try {
      start = await startFromFile(cache, unreachable, wanted);
    } catch (err) {
      // startFromFile answers every case it knows of; anything else must still settle ready().
      start = {
        ok: false,
        message: `${unreachable} and the last-known-good file could not be used (${errorReason(err)})`,
        warnings: [],
      };
    }
    if (this.closed) return;
    this.outage = true;
    for (const warning of start.warnings) this.on.warn(warning);
    // ready() rejects with the one line; the client still retries (close() it to give up).
    if (!start.ok) return this.settle(new Error(start.message));
    memory.load(start.cached.entries, start.cached.seq, start.cached.resolved);
    const cachedFlags = start.cached.flags;
    if (cachedFlags) this.parts.flags.load(cachedFlags.items, cachedFlags.environment, start.cached.seq);
    this.source = 'last-known-good';
    this.needSnapshot = start.needSnapshot;
    this.settle();
  }

  private settle(err?: Error): void {
    this.started = true;
    this.on.settle(err);
  }

  private readonly handlers: StreamHandlers = {
    open: () => {
      this.outage = false;
      // The API answers for this position again: it keeps the values current from now on.
      this.source = 'api';
      const reconnected = !this.connected;
      this.connected = true;
      this.on.opened(reconnected);
    },
    healthy: () => this.parts.backoff.reset(),
    change: (wire) => {
      const result = this.parts.memory.applyChange(wire);
      if (result === 'duplicate') return;
      this.on.applied(result === 'position' ? [] : [result]);
    },
    flag: (event) => this.applyFlag(event),
    checkpoint: (seq) => {
      if (this.parts.memory.applyCheckpoint(seq)) this.on.applied([]);
    },
    warn: (message) => this.on.warn(message),
  };

  private applyFlag(event: WireFlagEvent): void {
    // Flag versions share the change stream's positions: one at or below ours is a replay.
    if (!this.parts.memory.applyCheckpoint(event.seq)) return;
    const change = this.parts.flags.apply(event);
    if (change) this.on.flagsChanged([change]);
    this.on.applied([]);
  }

  private lost(reason: string, retryInMs: number): void {
    if (this.connected) {
      this.connected = false;
      this.on.disconnected(reason, retryInMs);
    }
    if (!this.outage) {
      this.outage = true;
      this.on.warn(`Lost the configuration API (${reason}); values in memory stay in force, reconnecting`);
    }
  }
}

/** Waits `ms`, or less when `signal` aborts; its timer never keeps the process alive. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}
