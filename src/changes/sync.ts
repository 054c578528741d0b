import { isUnavailableError, type DbConnection } from '../storage/connection.js';
import { supportsChangeStreams, watchVersions } from '../storage/version-watch.js';
import { errorDetail, logger } from '../base/logger.js';
import type { ConfigService } from '../config/service.js';

export type SyncMode = 'change-stream' | 'polling' | 'stopped';

export interface SyncStatus {
  mode: SyncMode;
  intervalMs: number;
  lastSync: Date | undefined;
  failures: number;
}

export interface SyncOptions {
  /** Polling period when change streams are unavailable. */
  intervalMs: number;
  /**
   * Period of a full reload (CONFIG_CACHE_TTL_MS), which also completes interrupted writes: a
   * safety net under the change stream or the marker, which could miss a change. Default 5 min.
   */
  fullRefreshMs?: number;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Brings changes made by other processes into this one: its cache, its events, its scheduler.
 * On a replica set (Atlas) it follows a change stream on config_versions; elsewhere (standalone
 * mongod, FerretDB) it polls a change marker that every committed write moves (one read of a
 * one-document collection), and when it moved, catches up each key whose version is newer than this process holds,
 * version by version in order. After a failure, the first good poll does the same. Never throws;
 * stop() leaves no timer.
 */
export class ConfigSync {
  private mode: SyncMode = 'stopped';
  private timer: NodeJS.Timeout | undefined;
  private fullRefresh: NodeJS.Timeout | undefined;
  private stream: { close(): Promise<void> } | undefined;
  private lastSync: Date | undefined;
  private failures = 0;
  private lastMarker: string | undefined;

  constructor(
    private readonly config: ConfigService,
    private readonly conn: DbConnection,
    private readonly opts: SyncOptions,
  ) {}

  async start(): Promise<void> {
    if (this.mode !== 'stopped') return;
    this.fullRefresh ??= setInterval(
      () => void this.config.refresh().catch((e: unknown) => this.config.health.noteFailure('refresh', e)),
      this.opts.fullRefreshMs ?? 300_000,
    );
    this.fullRefresh.unref();
    if (await supportsChangeStreams(this.conn)) {
      try {
        this.openStream();
        return;
      } catch (err) {
        logger.warn('Change stream unavailable; polling instead', errorDetail(err));
      }
    }
    this.mode = 'polling';
    logger.info(`Following changes from other processes by polling every ${this.opts.intervalMs} ms`);
    this.schedule(this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    this.mode = 'stopped';
    clearTimeout(this.timer);
    this.timer = undefined;
    clearInterval(this.fullRefresh);
    this.fullRefresh = undefined;
    const stream = this.stream;
    this.stream = undefined;
    await stream?.close().catch(() => undefined);
  }

  status(): SyncStatus {
    return {
      mode: this.mode,
      intervalMs: this.opts.intervalMs,
      lastSync: this.lastSync,
      failures: this.failures,
    };
  }

  /**
   * Calls `listener` whenever another process committed something (the marker moved, or the
   * change stream saw a version), whatever the slot: followers of slots the service does not hold
   * (flags) pull then instead of waiting for their own timer. Returns the unsubscribe function.
   */
  /** Calls `listener` when another process committed something (the bus's `moved`). */
  onMoved(listener: () => void): () => void {
    return this.config.events.on('moved', () => listener());
  }

  private moved(): void {
    this.config.events.emit('moved', true);
  }

  /**
   * One poll: a single lookup of the change marker; only when it moved since the last poll are
   * the current values compared, and each key that moved is caught up version by version.
   */
  async pollOnce(): Promise<void> {
    const marker = await this.config.changeMarker();
    if (marker !== undefined && marker === this.lastMarker) return;
    this.lastMarker = marker;
    await this.config.refresh({ repair: false });
    this.moved();
  }

  private schedule(delay: number): void {
    if (this.mode !== 'polling') return;
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let delay = this.opts.intervalMs;
    try {
      if (this.failures > 0) {
        // Back after an outage: the recent window may not cover it, so compare every key.
        await this.config.refresh();
        this.config.health.noteAvailable();
      } else {
        await this.pollOnce();
      }
      this.failures = 0;
      this.lastSync = new Date();
    } catch (err) {
      // A poll that was under way when the process stopped fails with the closed connection.
      if (this.mode === 'stopped') return;
      this.failures++;
      delay = Math.min(this.opts.intervalMs * 2 ** this.failures, MAX_BACKOFF_MS);
      if (isUnavailableError(err)) this.config.health.noteFailure('sync', err);
      else logger.error('Configuration sync failed', errorDetail(err));
    } finally {
      this.schedule(delay);
    }
  }

  private openStream(): void {
    const stream = watchVersions(
      this.conn,
      (key, version) => {
        this.lastSync = new Date();
        this.moved();
        if (version > this.config.cachedVersion(key)) {
          this.config.catchUp(key).catch((err: unknown) => this.config.health.noteFailure('sync', err));
        }
      },
      (err) => {
        logger.warn('Change stream failed; catching up and polling instead', errorDetail(err));
        this.failures++;
        this.stream = undefined;
        this.mode = 'polling';
        this.schedule(this.opts.intervalMs);
      },
    );
    this.stream = stream;
    this.mode = 'change-stream';
    logger.info('Following changes from other processes with a change stream');
  }
}
