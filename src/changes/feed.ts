import { coalesced } from '../base/coalesce.js';
import { FeedHistory } from './feed-history.js';
import { Pacer } from './pacer.js';
import { changeOf, stateOf, type FeedChange, type FeedFollower, type FeedOptions } from './feed-change.js';
import { errorDetail, logger } from '../base/logger.js';
import type { ConfigVersionDoc } from '../storage/config-models.js';
import { TAIL_SIZE } from '../storage/change-tail.js';
import { slotId, splitSlot } from '../config/scopes.js';
import type { SlotState } from '../config/resolution.js';
import type { Committed } from './bus.js';
import type { ConfigService } from '../config/service.js';

export type { FeedChange, FeedFollower, FeedOptions } from './feed-change.js';

type Listener = (position: number) => void;

/** How long an entry missing from the tail (while later ones are there) is waited for before the log is read. */
const GAP_MS = 200;

/**
 * This process's view of the change log: it follows the log in order, makes sure each change is
 * in this process's values before announcing it (so whoever hears "position N" can read the value
 * of N), and keeps the recent ones for live streams. `position` is what this process has applied,
 * which is what it reports as applied. It is woken by the service's change events (a write here,
 * or one ConfigSync brought in) and checks the head on a timer besides. Never throws.
 */
export class ChangeFeed {
  position = 0;
  /** Whether `position` is known (see prime). */
  private primed = false;
  /** The changes this feed applied lately, for streams (see FeedHistory). */
  private readonly history: FeedHistory;
  /** Registry slots as of `position`, for those that changed since this feed started (see stateOf). */
  private readonly states = new Map<string, SlotState>();
  /** This feed's own listeners on the bus (removed on stop). */
  private readonly offs = new Set<() => void>();
  private readonly pacer: Pacer;
  private detach: (() => void) | undefined;
  private stopped = true;
  /** A read of the log is under way: a commit of this process then waits for it (see committed). */
  private pulling = false;
  /** Since when the next entry has been missing from the tail while later ones are there. */
  private gapSince: number | undefined;
  /** The tail's marker when this feed last read the tail (undefined: read it next time). */
  private seenMarker: string | undefined;
  private intervalMs: number;
  /** When a read of the tail last succeeded, and how many have failed since. */
  lastPull: Date | undefined;
  failures = 0;

  constructor(
    private readonly config: ConfigService,
    private readonly opts: FeedOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.history = new FeedHistory(config, (slot) => this.knows(slot), opts.recent ?? 1000);
    this.pacer = new Pacer(
      () => this.pull(),
      () => config.health.available,
    );
  }

  /**
   * Takes the log's head before this process loads its values (ConfigService.init), so that the
   * values loaded include every change up to it and start() needs no second read of them.
   * Without a database it leaves the position unknown; start() or the first pull settles it.
   */
  async prime(): Promise<void> {
    try {
      this.position = await this.config.changes.head();
      this.primed = true;
    } catch {
      // Settled later, from the head and a reload of the values.
    }
  }

  /** Starts following, from the primed head or else from the head with the values reloaded. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    try {
      if (!this.primed) await this.settle();
    } catch (err) {
      // Started from the last-known-good copy: the first pull that reaches the log starts there.
      logger.warn('Change feed starts without the database; it follows once it answers', errorDetail(err));
    }
    const bus = this.config.events;
    const offs = [
      // This process's own commits arrive with their position: no read of the log needed.
      bus.on('committed', (c) => this.committed(c)),
      // Versions applied here otherwise (a refresh caught them up), flags included, and another
      // process's commit announced by a change stream: the log has moved.
      bus.on('value', (c) => {
        // Applied by this feed itself, or a commit of this process taken from the bus already.
        if (this.pulling || (this.states.get(slotId(c.key, c.scope))?.version ?? 0) >= c.version) return;
        this.wake(5);
      }),
      bus.on('flag', () => {
        if (!this.pulling) this.wake(5);
      }),
      bus.on('moved', () => void this.pull()),
      ...(this.opts.followers ?? []).map((f) => f.subscribe(() => this.wake(5))),
    ];
    this.detach = () => offs.forEach((off) => off());
    this.every(this.intervalMs);
    // What was committed while the values loaded (the seeding of a first start included).
    await this.pull();
  }

  /** Reads the tail every `ms` from now on: polling, or a safety net under a change stream. */
  every(ms: number): void {
    this.intervalMs = ms;
    if (!this.stopped) this.pacer.every(ms);
  }

  stop(): void {
    this.stopped = true;
    this.pacer.stop();
    this.detach?.();
    for (const off of [...this.offs]) off();
  }

  /**
   * What a registry slot holds as of this feed's position: its latest change the feed applied, or
   * for a slot unchanged since the feed started, what this process holds.
   */
  stateOf(slot: string): SlotState {
    return this.states.get(slot) ?? this.config.heldState(slot);
  }

  /** What registry slots held as of an earlier `position` (a stream resuming there; see FeedHistory). */
  statesAt(slots: readonly string[], position: number): Promise<Map<string, SlotState>> {
    return this.history.statesAt(slots, position, this.position, (slot) => this.stateOf(slot));
  }

  /**
   * Calls `listener` with the new position each time the feed moves (the bus's `advanced`);
   * returns the unsubscribe function.
   */
  onAdvance(listener: Listener): () => void {
    const off = this.config.events.on('advanced', listener);
    this.offs.add(off);
    return () => {
      off();
      this.offs.delete(off);
    };
  }

  /**
   * A commit of this process, applied here already: when it is the next position, it is taken
   * as it is (value included), with no read of the log, its entries or the stored version; when
   * other processes' entries come first, the log is read as usual.
   */
  private committed(c: Committed): void {
    if (this.stopped || !this.primed || this.pulling) return this.wake(5);
    if (c.seq <= this.position) return;
    if (c.seq !== this.position + 1) return this.wake(5);
    const { key } = splitSlot(c.slot);
    const follower = this.followerOf(c.slot);
    if (follower || this.config.isRegistered(key)) {
      const change = changeOf(c.seq, c.slot, c, c.at);
      this.history.remember(change);
      if (!follower) this.states.set(c.slot, stateOf(change));
    }
    this.position = c.seq;
    this.advance();
  }

  /** The changes after `position` up to this feed's, and the position they cover (see FeedHistory). */
  since(position: number, limit = 500): Promise<{ changes: FeedChange[]; through: number } | undefined> {
    return this.history.since(position, this.position, limit);
  }

  /** Reads the log from this feed's position; overlapping calls run once more, not in parallel. */
  readonly pull = coalesced(
    async () => {
      if (this.stopped) return;
      this.pulling = true;
      try {
        while ((await this.pullOnce()) === 'more' && !this.stopped);
      } finally {
        this.pulling = false;
      }
    },
    () => this.stopped,
  );

  /** The position from the head, with this process's values reloaded so they include it. */
  private async settle(): Promise<void> {
    const head = await this.config.changes.head();
    await this.reload();
    this.position = head;
    this.primed = true;
  }

  /**
   * One read of the tail, whose entries carry their versions: each next one is applied as it is.
   * When the next one is not there (this process fell further behind than the tail keeps, or its
   * writer has not published it yet, or never will: it stopped), the log itself is read, at once
   * or after GAP_MS. 'more' when there may be more to read at once.
   */
  private async pullOnce(): Promise<'more' | 'done'> {
    try {
      if (!this.primed) {
        await this.settle();
        this.advance();
        return 'done';
      }
      // The marker moves with every publish: while it has not, the tail holds nothing new.
      const { marker, seq: named } = await this.config.changes.marker();
      this.lastPull = new Date();
      // The database answers again: the outage ends here rather than at the next ping.
      if (this.failures > 0) this.config.health.noteAvailable();
      this.failures = 0;
      if (marker !== undefined && marker === this.seenMarker) return 'done';
      const tail = await this.config.changes.tail.after(this.position);
      this.seenMarker = marker;
      const from = this.position;
      for (const e of tail) {
        // Taken from this process's own commit meanwhile (see committed).
        if (e.seq <= this.position) continue;
        if (e.seq !== this.position + 1) break;
        await this.take(e.seq, e.slot, e.version, e.doc);
      }
      if (this.position > from) this.advance();
      if ((tail.at(-1)?.seq ?? 0) <= this.position) {
        this.gapSince = undefined;
        // The marker names a position the tail does not have: a process of an earlier release
        // (which moves the marker but publishes nothing) committed it.
        return named > this.position ? this.pullLog() : 'done';
      }
      // Entries after the next one are there: it was overwritten (the tail is full of newer
      // ones), or is still being published, or its writer stopped before publishing it.
      const now = Date.now();
      this.gapSince ??= now;
      // Read the tail again however the marker stands: the missing entry may already be there.
      this.seenMarker = undefined;
      if (tail.length < TAIL_SIZE && now - this.gapSince < GAP_MS) {
        this.pacer.in(GAP_MS / 4);
        return 'done';
      }
      this.gapSince = undefined;
      return await this.pullLog();
    } catch (err) {
      this.failures++;
      if (!this.stopped) this.config.health.noteFailure('change feed', err);
      return 'done';
    }
  }

  /** One page of the log itself; 'more' when the page was full. */
  private async pullLog(): Promise<'more' | 'done'> {
    const entries = await this.config.changes.after(this.position);
    const from = this.position;
    for (const [i, e] of entries.entries()) {
      // Taken from this process's own commit meanwhile (see committed).
      if (e._id <= this.position) continue;
      if (e._id !== this.position + 1) {
        // The log has no gaps (see ChangeLog) but is trimmed: a process that fell further
        // behind than it keeps reloads every value and goes on from there.
        if (i > 0 || e._id - 1 >= (await this.config.changes.oldest())) break;
        logger.warn(`Change feed fell behind the retained log (at ${this.position}); reloading`);
        await this.reload();
        this.position = e._id - 1;
      }
      await this.take(e._id, e.key, e.version);
    }
    if (this.position > from) this.advance();
    return entries.length === 500 ? 'more' : 'done';
  }

  /**
   * Applies the entry at `seq` (the next position): its version, given or read, to whoever holds
   * the slot (this process's values, or a follower such as the flags), then keeps it for streams.
   * A key this release does not know (another release wrote it) only moves the position.
   */
  private async take(seq: number, slot: string, version: number, given?: ConfigVersionDoc) {
    const follower = this.followerOf(slot);
    if (follower || this.config.isRegistered(splitSlot(slot).key)) {
      const doc = given ?? (await this.config.storedVersion(slot, version)) ?? undefined;
      if (follower) {
        if (follower.heldVersion(slot) < version && !(doc && follower.applyNext?.(doc)))
          await follower.catchUp(slot);
      } else if (!(doc && this.config.applyNext(doc))) await this.config.catchUp(slot);
      if (doc) {
        // Stamped with the version's own time, as this process's commits are (see committed).
        const change = changeOf(seq, slot, doc, doc.createdAt);
        this.history.remember(change);
        if (!follower) this.states.set(slot, stateOf(change));
      }
    }
    this.position = seq;
  }

  private followerOf(slot: string): FeedFollower | undefined {
    return this.opts.followers?.find((f) => f.owns(slot));
  }

  /** Whether a slot is a registry key or a follower's (others are only moved past). */
  private knows(slot: string): boolean {
    return this.followerOf(slot) !== undefined || this.config.isRegistered(splitSlot(slot).key);
  }

  /** Every value and every follower's slots read again. */
  private async reload(): Promise<void> {
    // Every slot is what this process now holds again.
    this.states.clear();
    await this.config.refresh({ repair: false });
    for (const f of this.opts.followers ?? []) await f.load();
  }

  /** A change event arrived: the log may not show it yet (a change stream is faster), so look again shortly. */
  private wake(tries: number): void {
    if (this.stopped) return;
    const before = this.position;
    this.pacer.soon(() => this.position > before || this.stopped, tries);
  }

  /** Says the feed moved (the bus contains a listener that throws). */
  private advance(): void {
    this.config.events.emit('advanced', this.position);
  }
}
