import { hostname } from 'node:os';
import { coalesced } from '../base/coalesce.js';
import { errorDetail, logger } from '../base/logger.js';
import { appVersion } from '../base/version.js';
import type { DbConnection } from '../storage/connection.js';
import {
  InstanceRecords,
  type InstanceDoc,
  type InstanceKind,
  type InstanceReport,
} from '../storage/instances.js';
import type { ChangeFeed } from './feed.js';

export type { InstanceKind } from '../storage/instances.js';

/** How long an instance not heard from is kept (shown as gone) before it is forgotten. */
const FORGET_AFTER_MS = 24 * 3600_000;

export type InstanceState = 'live' | 'gone' | 'stopped';

export interface Instance {
  id: string;
  kind: InstanceKind;
  name: string | undefined;
  host: string | undefined;
  pid: number | undefined;
  version: string | undefined;
  applied: number;
  appliedAt: Date | undefined;
  /** When it first reported itself (its start). */
  startedAt: Date;
  lastSeen: Date;
  state: InstanceState;
}

/** Who applied one change, for a reply: the live instances that did (with how long it took) and did not. */
export interface AppliedBy {
  live: number;
  applied: { instance: Instance; lagMs: number | undefined }[];
  waiting: Instance[];
}

/**
 * The processes that follow the configuration, as people see them: live, stopped, or gone (not
 * heard from within the gone timeout). The list forgets those gone for a day.
 */
export class InstanceStore {
  private readonly records: InstanceRecords;

  constructor(
    conn: DbConnection,
    private readonly goneAfterMs: number,
  ) {
    this.records = new InstanceRecords(conn);
  }

  /** What an instance last reported (undefined: never, or forgotten). */
  get(id: string): Promise<InstanceDoc | undefined> {
    return this.records.get(id);
  }

  /** How many instances whose id starts with `prefix` were heard from within the gone timeout. */
  liveWithPrefix(prefix: string, now = new Date()): Promise<number> {
    return this.records.countSeen(prefix, new Date(now.getTime() - this.goneAfterMs));
  }

  /**
   * Records a report; the time it applied a new position is now (as seen by the recorder).
   * `prev`: what get() returned just before, when the caller read it already.
   */
  report(r: InstanceReport, now = new Date(), prev?: InstanceDoc | null): Promise<InstanceDoc> {
    return this.records.report(r, now, prev);
  }

  stopped(id: string): Promise<void> {
    return this.records.stopped(id);
  }

  /** Every instance heard from in the last day, live ones first; older ones are deleted. */
  async list(now = new Date()): Promise<Instance[]> {
    const docs = await this.records.all(new Date(now.getTime() - FORGET_AFTER_MS));
    const order: Record<InstanceState, number> = { live: 0, stopped: 1, gone: 2 };
    return docs
      .map((d) => this.shown(d, now))
      .sort((a, b) => order[a.state] - order[b.state] || a.id.localeCompare(b.id));
  }

  /** Which live instances have applied the change at `seq`, committed at `committedAt`. */
  async appliedBy(seq: number, committedAt: Date, now = new Date()): Promise<AppliedBy> {
    const docs = await this.records.all();
    const out: AppliedBy = { live: 0, applied: [], waiting: [] };
    for (const d of docs) {
      const instance = this.shown(d, now);
      if (instance.state !== 'live') continue;
      out.live++;
      if (d.applied < seq) {
        out.waiting.push(instance);
        continue;
      }
      // When it first reached a position at or past this change (unknown once out of its recent list).
      const first = d.recent.find((r) => r.seq >= seq);
      const lagMs =
        first && d.recent[0] && d.recent[0].seq < seq
          ? first.at.getTime() - committedAt.getTime()
          : undefined;
      out.applied.push({ instance, lagMs: lagMs === undefined ? undefined : Math.max(0, lagMs) });
    }
    return out;
  }

  private shown(d: InstanceDoc, now: Date): Instance {
    const state: InstanceState = d.stoppedAt
      ? 'stopped'
      : now.getTime() - d.lastSeen.getTime() > this.goneAfterMs
        ? 'gone'
        : 'live';
    return {
      id: d._id,
      kind: d.kind,
      name: d.name,
      host: d.host,
      pid: d.pid,
      version: d.version,
      applied: d.applied,
      appliedAt: d.recent.at(-1)?.at,
      startedAt: d.startedAt,
      lastSeen: d.lastSeen,
      state,
    };
  }
}

/**
 * A bot or API process reporting itself: at once when its feed applied a change, and every
 * `intervalMs` besides (which is what keeps it live). Never throws; stop() marks it stopped.
 */
export class InstanceReporter {
  private timer: NodeJS.Timeout | undefined;
  private detach: (() => void) | undefined;
  /** What this process last wrote of itself: it alone writes its document, so none is read back. */
  private last: InstanceDoc | undefined;

  constructor(
    private readonly store: InstanceStore,
    private readonly feed: ChangeFeed,
    private readonly self: { id: string; kind: InstanceKind },
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.detach = this.feed.onAdvance(() => void this.report());
    this.timer = setInterval(() => void this.report(), this.intervalMs);
    this.timer.unref();
    void this.report();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.detach?.();
    await this.report();
    await this.store.stopped(this.self.id).catch(() => undefined);
  }

  /** Reports now; a report asked for while one is being written follows it. */
  readonly report = coalesced(async () => {
    try {
      this.last = await this.store.report(
        {
          ...this.self,
          host: hostname(),
          pid: process.pid,
          version: appVersion(),
          applied: this.feed.position,
        },
        new Date(),
        this.last,
      );
    } catch (err) {
      logger.debug('Could not report which changes this process applied', errorDetail(err));
    }
  });
}
