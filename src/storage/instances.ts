import { Schema, type Model } from 'mongoose';
import type { DbConnection } from './connection.js';

export const INSTANCE_KINDS = ['bot', 'api', 'client'] as const;
export type InstanceKind = (typeof INSTANCE_KINDS)[number];

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
 * The processes that follow the configuration (`config_instances`), one document each, written
 * only by the instance itself (bot processes directly, clients through the API), so a
 * read-modify-write per report needs no coordination.
 */
export class InstanceRecords {
  private readonly model: Model<InstanceDoc>;

  constructor(conn: DbConnection) {
    this.model = (conn.models.ConfigInstance ??
      conn.model('ConfigInstance', instanceSchema)) as Model<InstanceDoc>;
  }

  /** What an instance last reported (undefined: never, or forgotten). */
  async get(id: string): Promise<InstanceDoc | undefined> {
    return (await this.model.findById(id).lean<InstanceDoc>().exec()) ?? undefined;
  }

  /** How many running instances whose id starts with `prefix` were heard from since `since`. */
  async countSeen(prefix: string, since: Date): Promise<number> {
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return this.model
      .countDocuments({
        _id: { $regex: `^${escaped}` },
        lastSeen: { $gte: since },
        stoppedAt: { $exists: false },
      })
      .exec();
  }

  /**
   * Records a report; the time it applied a new position is now (as seen by the recorder).
   * `prev`: what get() returned just before, when the caller read it already.
   */
  async report(r: InstanceReport, now = new Date(), prev?: InstanceDoc | null): Promise<InstanceDoc> {
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
    return doc;
  }

  async stopped(id: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { stoppedAt: new Date() } }).exec();
  }

  /** Every instance; those not heard from since `forgetBefore` are deleted first, when given. */
  async all(forgetBefore?: Date): Promise<InstanceDoc[]> {
    if (forgetBefore) await this.model.deleteMany({ lastSeen: { $lt: forgetBefore } }).exec();
    return this.model.find({}).lean<InstanceDoc[]>().exec();
  }
}
