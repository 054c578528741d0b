import type { DbConnection } from '../storage/connection.js';
import { supportsChangeStreams, watchTail, type TailWatch } from '../storage/tail-watch.js';
import { errorDetail, logger } from '../base/logger.js';
import type { ConfigService } from '../config/service.js';
import { ChangeFeed } from './feed.js';

export type SyncMode = 'change-stream' | 'polling' | 'stopped';

export interface SyncStatus {
  mode: SyncMode;
  intervalMs: number;
  lastSync: Date | undefined;
  failures: number;
}

export interface SyncOptions {
  /** How often the change log's tail is read when no change stream says when to. */
  intervalMs: number;
  /**
   * Period of a full reload (CONFIG_CACHE_TTL_MS), which also completes interrupted writes: a
   * safety net under the feed, which could miss a change whose writer stopped. Default 5 min.
   */
  fullRefreshMs?: number;
  /** The process's change feed, which applies what this says to read; one of its own when omitted. */
  feed?: ChangeFeed;
  /**
   * Whether a change stream says when to read (CONFIG_CHANGE_STREAM): `auto` where the server
   * shows it can (a replica set or cluster), `on` tries anyway (falling back to polling when
   * refused), `off` never. Default auto.
   */
  changeStream?: 'auto' | 'on' | 'off';
}

/** Under a change stream, the tail is still read this often, in case the stream misses something. */
const STREAM_SAFETY_MS = 5000;

/**
 * Says when this process reads what other processes committed; the change feed reads and applies
 * it (ChangeFeed: the log's tail, whose entries carry their versions). On a replica set or a
 * sharded cluster (MongoDB, Atlas) a change stream on the tail says "now"; elsewhere (a standalone
 * mongod, FerretDB, which refuses $changeStream) or when the stream fails, the feed reads the tail
 * every `intervalMs`. Either way the feed resumes from the position it applied, so a restart or a
 * switch between the two misses nothing. Never throws; stop() leaves no timer.
 */
export class ConfigSync {
  private mode: SyncMode = 'stopped';
  private fullRefresh: NodeJS.Timeout | undefined;
  private stream: TailWatch | undefined;
  private readonly feed: ChangeFeed;
  private readonly ownFeed: boolean;

  constructor(
    private readonly config: ConfigService,
    private readonly conn: DbConnection,
    private readonly opts: SyncOptions,
  ) {
    this.ownFeed = !opts.feed;
    this.feed = opts.feed ?? new ChangeFeed(config, { intervalMs: opts.intervalMs });
  }

  async start(): Promise<void> {
    if (this.mode !== 'stopped') return;
    this.fullRefresh ??= setInterval(
      () => void this.config.refresh().catch((e: unknown) => this.config.health.noteFailure('refresh', e)),
      this.opts.fullRefreshMs ?? 300_000,
    );
    this.fullRefresh.unref();
    const want = this.opts.changeStream ?? 'auto';
    const streaming =
      want === 'on' || (want === 'auto' && (await supportsChangeStreams(this.conn)))
        ? this.openStream()
        : false;
    this.mode = streaming ? 'change-stream' : 'polling';
    if (!streaming)
      logger.info(`Following changes from other processes by polling every ${this.opts.intervalMs} ms`);
    this.feed.every(streaming ? STREAM_SAFETY_MS : this.opts.intervalMs);
    if (this.ownFeed) await this.feed.start();
  }

  async stop(): Promise<void> {
    this.mode = 'stopped';
    clearInterval(this.fullRefresh);
    this.fullRefresh = undefined;
    if (this.ownFeed) this.feed.stop();
    const stream = this.stream;
    this.stream = undefined;
    await stream?.close().catch(() => undefined);
  }

  status(): SyncStatus {
    return {
      mode: this.mode,
      intervalMs: this.opts.intervalMs,
      lastSync: this.feed.lastPull,
      failures: this.feed.failures,
    };
  }

  /** Opens the stream; false when it cannot be (the server then refuses it later, see onError). */
  private openStream(): boolean {
    try {
      this.stream = watchTail(
        this.conn,
        () => this.config.events.emit('moved', true),
        (err) => {
          if (this.mode !== 'change-stream') return;
          logger.warn(
            `Change stream refused or failed (${errorDetail(err).error as string}); polling every ${this.opts.intervalMs} ms instead`,
          );
          this.stream = undefined;
          this.mode = 'polling';
          this.feed.every(this.opts.intervalMs);
          void this.feed.pull();
        },
      );
      logger.info('Following changes from other processes with a change stream');
      return true;
    } catch (err) {
      logger.warn('Change stream unavailable; polling instead', errorDetail(err));
      return false;
    }
  }
}
