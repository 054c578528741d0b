import { hostname } from 'node:os';
import { Schema, type Connection, type Model } from 'mongoose';
import { coalesced } from '../coalesce.js';
import { errorDetail, logger } from '../logger.js';
import { appVersion } from '../version.js';
import type { ChangeFeed } from './feed.js';

export const INSTANCE_KINDS = ['bot', 'api', 'client'] as const;
export type InstanceKind = (typeof INSTANCE_KINDS)[number];

/** How long an instance not heard from is kept (shown as gone) before it is forgotten. */
const FORGET_AFTER_MS = 24 * 3600_000;
/** Positions an instance remembers applying, with when, to tell how fast it applied a change. */
const RECENT = 50;

export interface InstanceDoc {
  /** The instance's own id (bot processes: host-pid-random; clients choose theirs). */
  _id: string;
  kind: InstanceKind;
  name?: string;
  host?: string;
  pid?: number;
  version?: string;
  /** The change-log position it has applied: every change up to it. */
  applied: number;
  /** When it applied each of its latest positions. */
  recent: { seq: number; at: Date }[];
  startedAt: Date;
  lastSeen: Date;
  /** Set when it stopped cleanly: shown as stopped at once, not gone after a while. */
  stoppedAt?: Date;
}

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
  lastSeen: Date;
  state: InstanceState;
}

/** What an instance says about itself. */
export interface InstanceReport {
  id: string;
  kind: InstanceKind;
  name?: string | undefined;
  host?: string | undefined;
  pid?: number | undefined;
  version?: string | undefined;
  applied: number;
}

/** Who applied one change, for a reply: the live instances that did (with how long it took) and did not. */
export interface AppliedBy {
  live: number;
  applied: { instance: Instance; lagMs: number | undefined }[];
  waiting: Instance[];
}

const instanceSchema = new Schema<InstanceDoc>(
  {
    _id: { type: String },
    kind: { type: String, enum: INSTANCE_KINDS, required: true },
    name: { type: String },
    host: { type: String },
    pid: { type: Number },
    version: { type: String },
    applied: { type: Number, required: true },
    recent: [{ _id: false, seq: { type: Number, required: true }, at: { type: Date, required: true } }],
    startedAt: { type: Date, required: true },
    lastSeen: { type: Date, required: true },
    stoppedAt: { type: Date },
  },
  { versionKey: false, bufferCommands: false, strict: 'throw', collection: 'config_instances' },
);

/**
 * The processes that follow the configuration, one document each, written only by the instance
 * itself (bot processes directly, clients through the API), so a read-modify-write per report
 * needs no coordination. Nobody deletes a live one; the list forgets those gone for a day.
 */
export class InstanceStore {
  private readonly model: Model<InstanceDoc>;

  constructor(
    conn: Connection,
    private readonly goneAfterMs: number,
  ) {
    this.model = (conn.models.ConfigInstance ??
      conn.model('ConfigInstance', instanceSchema)) as Model<InstanceDoc>;
  }

  /** What an instance last reported (undefined: never, or forgotten). */
  async get(id: string): Promise<InstanceDoc | undefined> {
    return (await this.model.findById(id).lean<InstanceDoc>().exec()) ?? undefined;
  }

  /** How many instances whose id starts with `prefix` were heard from within the gone timeout. */
  async liveWithPrefix(prefix: string, now = new Date()): Promise<number> {
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return this.model
      .countDocuments({
        _id: { $regex: `^${escaped}` },
        lastSeen: { $gte: new Date(now.getTime() - this.goneAfterMs) },
        stoppedAt: { $exists: false },
      })
      .exec();
  }

  /**
   * Records a report; the time it applied a new position is now (as seen by the recorder).
   * `prev`: what get() returned just before, when the caller read it already.
   */
  async report(r: InstanceReport, now = new Date(), prev?: InstanceDoc | null): Promise<void> {
    if (prev === undefined) prev = await this.model.findById(r.id).lean<InstanceDoc>().exec();
    const recent = prev?.recent ?? [];
    if (!prev || r.applied > prev.applied) recent.push({ seq: r.applied, at: now });
    const doc: InstanceDoc = {
      _id: r.id,
      kind: r.kind,
      ...(r.name ? { name: r.name } : {}),
      ...(r.host ? { host: r.host } : {}),
      ...(r.pid !== undefined ? { pid: r.pid } : {}),
      ...(r.version ? { version: r.version } : {}),
      applied: Math.max(r.applied, prev?.applied ?? 0),
      recent: recent.slice(-RECENT),
      startedAt: prev?.startedAt ?? now,
      lastSeen: now,
    };
    await this.model.replaceOne({ _id: r.id }, doc, { upsert: true }).exec();
  }

  async stopped(id: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { stoppedAt: new Date() } }).exec();
  }

  /** Every instance heard from in the last day, live ones first; older ones are deleted. */
  async list(now = new Date()): Promise<Instance[]> {
    await this.model.deleteMany({ lastSeen: { $lt: new Date(now.getTime() - FORGET_AFTER_MS) } }).exec();
    const docs = await this.model.find({}).lean<InstanceDoc[]>().exec();
    const order: Record<InstanceState, number> = { live: 0, stopped: 1, gone: 2 };
    return docs
      .map((d) => this.shown(d, now))
      .sort((a, b) => order[a.state] - order[b.state] || a.id.localeCompare(b.id));
  }

  /** Which live instances have applied the change at `seq`, committed at `committedAt`. */
  async appliedBy(seq: number, committedAt: Date, now = new Date()): Promise<AppliedBy> {
    const docs = await this.model.find({}).lean<InstanceDoc[]>().exec();
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
      await this.store.report({
        ...this.self,
        host: hostname(),
        pid: process.pid,
        version: appVersion(),
        applied: this.feed.position,
      });
    } catch (err) {
      logger.debug('Could not report which changes this process applied', errorDetail(err));
    }
  });
}
