import type { SlotState } from '../config/resolution.js';
import type { ConfigService } from '../config/service.js';
import { changeOf, firstAfter, type FeedChange } from './feed-change.js';

/**
 * What a change feed applied lately, for live streams that fall behind or resume: kept in memory
 * (the newest `keep`, in position order), else read from the change log and the versions.
 */
export class FeedHistory {
  private readonly recent: FeedChange[] = [];

  constructor(
    private readonly config: ConfigService,
    /** Whether a slot is one this release shows (a registry key or a follower's). */
    private readonly knows: (slot: string) => boolean,
    private readonly keep: number,
  ) {}

  /** A change the feed applied, at the next position. */
  remember(change: FeedChange): void {
    this.recent.push(change);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
  }

  /**
   * The changes after `position` up to `head` (the feed's), oldest first, and the position they
   * cover (`through`: entries of keys this release does not know are covered but not listed):
   * from memory when it still has them, else from the log. Undefined when the log no longer holds
   * them (a resync is needed).
   */
  async since(
    position: number,
    head: number,
    limit = 500,
  ): Promise<{ changes: FeedChange[]; through: number } | undefined> {
    if (position >= head) return { changes: [], through: position };
    const first = this.recent[0];
    if (first && first.seq <= position + 1) {
      // Every stream asks this on every change: found by bisection, not by a scan of the kept ones.
      const from = firstAfter(this.recent, position);
      const changes = this.recent.slice(from, from + limit).filter((c) => c.seq <= head);
      const last = changes.at(-1);
      return { changes, through: changes.length === limit && last ? last.seq : head };
    }
    if (position + 1 < (await this.config.changes.oldest())) return undefined;
    const entries = (await this.config.changes.after(position, limit)).filter((e) => e._id <= head);
    const known = entries.filter((e) => this.knows(e.key));
    // One read for the page's versions, not one per entry.
    const docs = await this.config.storedVersions(known.map((e) => ({ slot: e.key, version: e.version })));
    const changes: FeedChange[] = [];
    for (const e of known) {
      const doc = docs.get(`${e.key}@${e.version}`);
      if (doc) changes.push(changeOf(e._id, e.key, doc, doc.createdAt));
    }
    return { changes, through: entries.at(-1)?._id ?? position };
  }

  /**
   * What registry slots held as of an earlier `position` (a stream resuming there): each slot
   * changed since is one version back from its first change after `position`, read in one query
   * of the log and one of the versions. Slots not changed since hold what they hold now.
   */
  async statesAt(
    slots: readonly string[],
    position: number,
    head: number,
    stateOf: (slot: string) => SlotState,
  ): Promise<Map<string, SlotState>> {
    const out = new Map(slots.map((s) => [s, stateOf(s)]));
    const first = await this.config.changes.firstOf(slots, position, head);
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
}
