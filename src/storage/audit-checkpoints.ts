import type mongoose from 'mongoose';
import { insertIfAbsent } from './insert-once.js';

/** A signed statement of the audit chain's head at a time (see src/audit/checkpoints.ts). */
export interface CheckpointDoc {
  /** `genesis`, or `cp-<seq>`: one checkpoint per place, whichever process made it first. */
  _id: string;
  /** The first checkpoint (rows written before the chain were sealed under it) or a periodic one. */
  kind: 'genesis' | 'periodic';
  /** The head's place when it was made (0: an empty chain). */
  seq: number;
  /** The head row's hash. */
  hash: string;
  at: Date;
  /** Genesis: rows that existed before the chain and were sealed into it late. */
  legacyRows?: number;
  /** The signing key's id (see src/audit/signing.ts); absent when no AUDIT_SIGNING_KEY was set. */
  keyId?: string;
  /** Ed25519 signature (base64) over the checkpoint's text. */
  signature?: string;
}

/** The checkpoints of the audit chain (config_audit_checkpoints); written once each, never changed. */
export class AuditCheckpoints {
  private indexed: Promise<unknown> | undefined;

  constructor(private readonly collection: mongoose.Collection<CheckpointDoc>) {}

  /** The collection of a connection's checkpoints. */
  static of(conn: mongoose.Connection): AuditCheckpoints {
    return new AuditCheckpoints(conn.collection<CheckpointDoc>('config_audit_checkpoints'));
  }

  /** Writes a checkpoint unless one with its id exists: true when this call wrote it. */
  async insertOnce(doc: CheckpointDoc): Promise<boolean> {
    this.indexed ??= this.collection.createIndex({ seq: 1 }).catch((err: unknown) => {
      this.indexed = undefined;
      throw err;
    });
    await this.indexed;
    return insertIfAbsent(this.collection, doc);
  }

  /** The first checkpoint, if the chain has begun. */
  async genesis(): Promise<CheckpointDoc | undefined> {
    return (await this.collection.findOne({ _id: 'genesis' })) ?? undefined;
  }

  /** The newest checkpoint. */
  async latest(): Promise<CheckpointDoc | undefined> {
    const [doc] = await this.collection.find({}).sort({ seq: -1, at: -1 }).limit(1).toArray();
    return doc;
  }

  /** Every checkpoint, in chain order. */
  async all(): Promise<CheckpointDoc[]> {
    return this.collection.find({}).sort({ seq: 1, at: 1 }).toArray();
  }

  /**
   * The checkpoints an export of the rows from..to needs: those inside it and the first at or
   * after its last row (which covers all of them).
   */
  async covering(from: number, to: number): Promise<CheckpointDoc[]> {
    const inside = await this.collection
      .find({ seq: { $gte: from, $lt: to } })
      .sort({ seq: 1 })
      .toArray();
    const [after] = await this.collection
      .find({ seq: { $gte: to } })
      .sort({ seq: 1 })
      .limit(1)
      .toArray();
    return after ? [...inside, after] : inside;
  }
}
