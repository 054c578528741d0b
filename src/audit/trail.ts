import { logger } from '../base/logger.js';
import type { AuditCheckpoints, CheckpointDoc } from '../storage/audit-checkpoints.js';
import type { AuditRows } from '../storage/audit-rows.js';
import { checkpointText } from './checkpoints.js';
import { signText, type SigningKey, type TrustedKey } from './signing.js';
import { verifyChain, type ChainReport, type VerifyOptions } from './verify.js';

/** What the trail is, for /config status and the start-up line. */
export interface TrailState {
  /** The signing key's public half and id, when AUDIT_SIGNING_KEY is set. */
  publicKey?: { text: string; id: string };
  genesis?: CheckpointDoc;
  latest?: CheckpointDoc;
  headSeq: number;
}

/**
 * The audit rows' chain as a whole: its beginning on a database that had rows before it (sealed
 * once, under the genesis checkpoint), its signed checkpoints, and its verification.
 */
export class AuditTrail {
  constructor(
    private readonly rows: AuditRows,
    private readonly checkpoints: AuditCheckpoints,
    private readonly key: SigningKey | undefined,
    /** Public keys whose checkpoints are trusted besides the signing key's (earlier keys). */
    private readonly trusted: readonly TrustedKey[] = [],
  ) {}

  get publicKey(): { text: string; id: string } | undefined {
    return this.key && { text: this.key.publicText, id: this.key.id };
  }

  /**
   * Begins the chain once per database: rows written before it (by an earlier release) are sealed
   * into it, oldest first, and the genesis checkpoint says how many. Afterwards a row outside the
   * chain was written around it and verification reports it. Returns the genesis checkpoint.
   */
  async begin(now = new Date()): Promise<CheckpointDoc> {
    const existing = await this.checkpoints.genesis();
    if (existing) return existing;
    const sealed = await this.rows.sealUnchained();
    if (sealed) logger.info(`Audit chain: sealed ${sealed} rows written before it existed`);
    const head = await this.rows.chain.readHead();
    const genesis = this.sign({
      _id: 'genesis',
      kind: 'genesis',
      seq: head.seq,
      hash: head.hash,
      at: now,
      legacyRows: await this.rows.chain.countLegacy(),
    });
    if (await this.checkpoints.insertOnce(genesis)) {
      logger.info(
        `Audit chain begun at row ${head.seq}${genesis.legacyRows ? ` (${genesis.legacyRows} earlier rows sealed under it)` : ''}`,
      );
      return genesis;
    }
    return (await this.checkpoints.genesis()) ?? genesis;
  }

  /**
   * Signs the chain's head as a checkpoint, unless no key is set or the newest checkpoint is at
   * the head already. Returns the checkpoint this call wrote (another process at the same head
   * writes it once between them).
   */
  async checkpoint(now = new Date()): Promise<CheckpointDoc | undefined> {
    if (!this.key) return undefined;
    const [head, latest] = await Promise.all([this.rows.chain.markedHead(), this.checkpoints.latest()]);
    // Only our own checkpoint of this very row makes another unneeded (one planted with a higher
    // place must not silence checkpoints: verification reports it, and signing goes on).
    if (latest?.keyId === this.key.id && latest.seq === head.seq && latest.hash === head.hash)
      return undefined;
    const doc = this.sign({
      _id: `cp-${head.seq}`,
      kind: 'periodic',
      seq: head.seq,
      hash: head.hash,
      at: now,
    });
    return (await this.checkpoints.insertOnce(doc)) ? doc : undefined;
  }

  /** Checks the chain (or a range of it) and every checkpoint; see verifyChain. */
  verify(opts: Omit<VerifyOptions, 'trusted'> = {}): Promise<ChainReport> {
    const trusted = new Map(this.trusted.map((t) => [t.id, t.key]));
    if (this.key) trusted.set(this.key.id, this.key.publicKey);
    return verifyChain(this.rows.chain, this.checkpoints, { ...opts, trusted });
  }

  async state(): Promise<TrailState> {
    const [genesis, latest, head] = await Promise.all([
      this.checkpoints.genesis(),
      this.checkpoints.latest(),
      this.rows.chain.markedHead(),
    ]);
    return {
      ...(this.publicKey ? { publicKey: this.publicKey } : {}),
      ...(genesis ? { genesis } : {}),
      ...(latest ? { latest } : {}),
      headSeq: head.seq,
    };
  }

  /** The checkpoints an export of rows from..to carries. */
  covering(from: number, to: number): Promise<CheckpointDoc[]> {
    return this.checkpoints.covering(from, to);
  }

  private sign(doc: CheckpointDoc): CheckpointDoc {
    if (!this.key) return doc;
    return { ...doc, keyId: this.key.id, signature: signText(this.key, checkpointText(doc)) };
  }
}
