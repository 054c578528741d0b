import { coalesced } from '../base/coalesce.js';
import { errorDetail, logger } from '../base/logger.js';
import type { Actor, VersionAction } from '../storage/config-models.js';
import { slotId, splitSlot, type Scope } from '../config/scopes.js';
import type { SlotState } from '../config/resolution.js';
import type { Committed } from './bus.js';
import type { ConfigService } from '../config/service.js';

/** One committed version, at its position in the change log. */
export interface FeedChange {
  seq: number;
  key: string;
  scope: Scope;
  version: number;
  action: VersionAction;
  actor: Actor;
  at: Date;
  /** The value this version holds at its scope (undefined when it unsets an override); may be Undecryptable. */
  value: unknown;
}

/**
 * Something else kept in the configuration's slots (feature flags): the feed applies its entries
 * through it, in log order, like the service's own keys.
 */
export interface FeedFollower {
  /** Whether this slot is its. */
  owns(slot: string): boolean;
  /** The version of the slot this process holds. */
  heldVersion(slot: string): number;
  /** Applies every version of the slot newer than the one held. */
  catchUp(slot: string): Promise<number>;
  /** Reads everything again (the feed fell behind the retained log, or starts late). */
  load(): Promise<void>;
  /** Tells the feed of a change made in this process, so it does not wait for its timer. */
  subscribe(listener: () => void): () => void;
}

export interface FeedOptions {
  /** Slots that are not registry keys, and who applies them. */
  followers?: readonly FeedFollower[];
  /** How often the log's head is checked when nothing else said it moved. Default 1 s. */
  intervalMs?: number;
  /** Changes kept in memory for streams that fall behind (older ones are read from the log). */
  recent?: number;
}

type Listener = (position: number) => void;

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
  private readonly recent: FeedChange[] = [];
  /** Registry slots as of `position`, for those that changed since this feed started (see stateOf). */
  private readonly states = new Map<string, SlotState>();
  /** This feed's own listeners on the bus (removed on stop). */
  private readonly offs = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private detach: (() => void) | undefined;
  private stopped = true;
  /** A read of the log is under way: a commit of this process then waits for it (see committed). */
  private pulling = false;

  constructor(
    private readonly config: ConfigService,
    private readonly opts: FeedOptions = {},
  ) {}

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
      // Versions applied here otherwise (caught up by the sync), flags included, and another
      // process's commit noticed: the log has moved.
      bus.on('value', (c) => {
        // A commit of this process taken from the bus already: nothing to read.
        if ((this.states.get(slotId(c.key, c.scope))?.version ?? 0) >= c.version) return;
        this.wake(5);
      }),
      bus.on('flag', () => this.wake(5)),
      bus.on('moved', () => void this.pull()),
      ...(this.opts.followers ?? []).map((f) => f.subscribe(() => this.wake(5))),
    ];
    this.detach = () => offs.forEach((off) => off());
    const every = this.opts.intervalMs ?? 1000;
    this.timer = setInterval(() => void this.pull(), every);
    this.timer.unref();
    // What was committed while the values loaded (the seeding of a first start included).
    await this.pull();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
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

  /**
   * What registry slots held as of an earlier `position` (a stream resuming there): each slot
   * changed since is one version back from its first change after `position`, read in one query
   * of the log and one of the versions. Slots not changed since hold what they hold now.
   */
  async statesAt(slots: readonly string[], position: number): Promise<Map<string, SlotState>> {
    const through = this.position;
    const out = new Map(slots.map((s) => [s, this.stateOf(s)]));
    const first = await this.config.changes.firstOf(slots, position, through);
    const wanted = [...first]
      .filter(([, version]) => version > 1)
      .map(([slot, version]) => ({ slot, version: version - 1 }));
    const docs = await this.config.storedVersions(wanted);
    for (const [slot, version] of first) {
      const doc = docs.get(`${slot}@${version - 1}`);
      out.set(
        slot,
        doc
          ? { version: doc.version, value: doc.value, ...(doc.action === 'unset' ? { unset: true } : {}) }
          : { version: 0, value: undefined },
      );
    }
    return out;
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
      this.remember(change);
      if (!follower) this.states.set(c.slot, stateOf(change));
    }
    this.position = c.seq;
    this.advance();
  }

  /**
   * The changes after `position` up to this feed's, oldest first, and the position they cover
   * (`through`: entries of keys this release does not know are covered but not listed): from
   * memory when it still has them, else from the log. Undefined when the log no longer holds
   * them (a resync is needed).
   */
  async since(
    position: number,
    limit = 500,
  ): Promise<{ changes: FeedChange[]; through: number } | undefined> {
    if (position >= this.position) return { changes: [], through: position };
    const first = this.recent[0];
    if (first && first.seq <= position + 1) {
      const changes = this.recent.filter((c) => c.seq > position && c.seq <= this.position).slice(0, limit);
      const last = changes.at(-1);
      return { changes, through: changes.length === limit && last ? last.seq : this.position };
    }
    if (position + 1 < (await this.config.changes.oldest())) return undefined;
    const entries = (await this.config.changes.after(position, limit)).filter((e) => e._id <= this.position);
    const known = entries.filter((e) => this.knows(e.key));
    // One read for the page's versions, not one per entry.
    const docs = await this.config.storedVersions(known.map((e) => ({ slot: e.key, version: e.version })));
    const changes: FeedChange[] = [];
    for (const e of known) {
      const doc = docs.get(`${e.key}@${e.version}`);
      if (doc) changes.push(changeOf(e._id, e.key, doc, e.at));
    }
    return { changes, through: entries.at(-1)?._id ?? position };
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

  /** One page of the log; 'more' when the page was full. */
  private async pullOnce(): Promise<'more' | 'done'> {
    try {
      if (!this.primed) {
        await this.settle();
        this.advance();
        return 'done';
      }
      const head = await this.config.changes.head();
      if (head <= this.position) return 'done';
      const entries = await this.config.changes.after(this.position);
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
        const { key, scope } = splitSlot(e.key);
        const follower = this.followerOf(e.key);
        // A key this release does not know (another release wrote it) only moves the position.
        if (follower || this.config.isRegistered(key)) {
          if (follower) {
            if (follower.heldVersion(e.key) < e.version) await follower.catchUp(e.key);
          } else if (this.config.cachedVersion(key, scope) < e.version) await this.config.catchUp(e.key);
          const change = await this.describe(e._id, e.key, e.version, e.at);
          if (change) {
            this.remember(change);
            if (!follower) this.states.set(e.key, stateOf(change));
          }
        }
        this.position = e._id;
      }
      if (entries.length) this.advance();
      return entries.length === 500 ? 'more' : 'done';
    } catch (err) {
      if (!this.stopped) this.config.health.noteFailure('change feed', err);
      return 'done';
    }
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
    const before = this.position;
    void this.pull().then(() => {
      if (this.position > before || tries <= 1 || this.stopped) return;
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.wake(tries - 1), 100);
      this.retry.unref();
    });
  }

  private async describe(
    seq: number,
    slot: string,
    version: number,
    at: Date,
  ): Promise<FeedChange | undefined> {
    const doc = await this.config.storedVersion(slot, version);
    return doc && changeOf(seq, slot, doc, at);
  }

  private remember(change: FeedChange): void {
    this.recent.push(change);
    const keep = this.opts.recent ?? 1000;
    if (this.recent.length > keep) this.recent.splice(0, this.recent.length - keep);
  }

  /** Says the feed moved (the bus contains a listener that throws). */
  private advance(): void {
    this.config.events.emit('advanced', this.position);
  }
}

function stateOf(change: FeedChange): SlotState {
  return {
    version: change.version,
    value: change.value,
    ...(change.action === 'unset' ? { unset: true } : {}),
  };
}

function changeOf(
  seq: number,
  slot: string,
  doc: { version: number; action: VersionAction; actor: Actor; value?: unknown },
  at: Date,
): FeedChange {
  const { key, scope } = splitSlot(slot);
  return {
    seq,
    key,
    scope,
    version: doc.version,
    action: doc.action,
    actor: doc.actor,
    at,
    value: doc.action === 'unset' ? undefined : doc.value,
  };
}
