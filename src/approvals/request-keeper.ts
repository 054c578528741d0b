import { errorDetail, logger } from '../base/logger.js';
import type { ChangeRequest } from './requests.js';
import { GLOBAL } from '../config/scopes.js';
import type { ConfigListener } from '../config/events.js';
import type { DatabaseHealth } from '../storage/health.js';
import type { ChangeRequests } from './requests.js';

/** What the keeper needs of the configuration service. */
export interface KeeperConfig {
  subscribe(keys: readonly string[] | undefined, listener: ConfigListener): () => void;
  readonly requests: ChangeRequests;
  readonly health: DatabaseHealth;
}

export interface RequestKeeperOptions {
  /** How often expiries, interrupted applies and unposted requests are looked for. Default 15 s. */
  intervalMs?: number;
  /** Shows a request where approvers see it (the approval channel); called for new and changed ones. */
  show?: (request: ChangeRequest) => Promise<void>;
  /** Changes of other versioned slots (flags), by slot: their requests lose approvals too when they move. */
  slotChanges?: (listener: (slot: string) => void) => () => void;
}

/**
 * Keeps change requests honest in the background (bot processes): closes expired ones, finishes
 * applies a dead process left half done, clears the approvals of requests whose keys moved (any
 * process's change, as this process applies it), and has every pending request shown once.
 * Every step is idempotent (compare-and-set on the request), so several processes may run one.
 * Never throws.
 */
export class RequestKeeper {
  private timer: NodeJS.Timeout | undefined;
  private detach: (() => void)[] = [];
  private ticking: Promise<void> | undefined;
  private stopped = true;
  /** Shows started by steps of this process, waited for by stop(). */
  private readonly showing = new Set<Promise<void>>();

  constructor(
    private readonly config: KeeperConfig,
    private readonly opts: RequestKeeperOptions = {},
  ) {}

  start(): void {
    this.stopped = false;
    this.detach.push(
      this.config.subscribe(undefined, (c) => void this.config.requests.keyMoved(c.key, c.scope)),
    );
    if (this.opts.slotChanges)
      this.detach.push(this.opts.slotChanges((slot) => void this.config.requests.keyMoved(slot, GLOBAL)));
    if (this.opts.show)
      this.detach.push(
        this.config.requests.subscribe((req) => {
          const p = this.show(req).finally(() => this.showing.delete(p));
          this.showing.add(p);
        }),
      );
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? 15_000);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const off of this.detach.splice(0)) off();
    await this.ticking;
    await Promise.all([...this.showing]);
  }

  /** Resolves once every show started so far has finished (posts and edits sent). */
  async settled(): Promise<void> {
    while (this.showing.size) await Promise.all([...this.showing]);
  }

  /** One pass; overlapping calls share it. */
  tick(): Promise<void> {
    this.ticking ??= this.pass().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    try {
      const requests = this.config.requests;
      const expired = await requests.expire();
      if (expired.length) logger.info(`Closed ${expired.length} expired change request(s)`);
      await requests.resume();
      if (this.opts.show) for (const req of await this.behind()) await this.show(req);
    } catch (err) {
      if (!this.stopped) this.config.health.noteFailure('change requests', err);
    }
  }

  /** Shows one request; a failure (Discord unreachable, say) is logged and retried next pass. */
  private async show(req: ChangeRequest): Promise<void> {
    try {
      await this.opts.show?.(req);
    } catch (err) {
      logger.warn(`Could not show change request ${req.id}`, errorDetail(err));
    }
  }

  /**
   * Requests whose post is missing (pending, never posted or its poster died) or behind their
   * log (a step taken by a process that shows nothing, such as an API process expiring it).
   */
  private async behind(): Promise<ChangeRequest[]> {
    const pending = await this.config.requests.list('pending', 100);
    const recent = await this.config.requests.list(undefined, 50);
    const seen = new Set<string>();
    return [...pending, ...recent].filter((r) => {
      if (seen.has(r.id)) return false;
      seen.add(r.id);
      if (!r.post?.messageId) return r.status === 'pending';
      return (r.post.shown ?? 0) < r.log.length;
    });
  }
}
