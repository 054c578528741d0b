import { describe, expect, it, onTestFinished } from 'vitest';
import mongoose from 'mongoose';
import { checkpointLine, parseCheckpointLines } from '../../src/audit/checkpoints.js';
import { describeBreak, reportLines } from '../../src/audit/report-text.js';
import { newSigningKeyText, parsePublicKey, parseSigningKey, signText } from '../../src/audit/signing.js';
import type { ChainReport } from '../../src/audit/verify.js';
import type { ConfigService } from '../../src/config/service.js';
import { AuditChain } from '../../src/storage/audit-chain.js';
import { rowHash } from '../../src/storage/audit-hash.js';
import { connect } from '../../src/storage/connection.js';
import { actor, openService, openTestDb, type TestDb } from '../helpers/db.js';

// The audit rows form one hash chain: every row is numbered without gaps and hashed over its
// content and the previous row's hash. Each tampering is made directly through the driver, as
// someone with write access to the database would, and must be reported by the row's id.

const alice = actor('111111111111111111', 'alice');
const signing = parseSigningKey(newSigningKeyText());

async function setUp(label: string, n = 6): Promise<{ db: TestDb; svc: ConfigService }> {
  const db = await openTestDb(label);
  onTestFinished(() => db.drop());
  const svc = await openService(db, { auditKeys: { signing } });
  onTestFinished(() => svc.close());
  await svc.trail.begin();
  for (let i = 0; i < n; i++) await svc.set('MAX_BATCH_SIZE', String(101 + i), alice, `change ${i}`);
  return { db, svc };
}

const rows = (db: TestDb) => db.conn.collection('config_audit_logs');
const kinds = (r: ChainReport) => r.breaks.map((b) => [b.kind, b.seq, b.id]);

describe('the audit chain', () => {
  it('numbers rows 1, 2, 3... without gaps and verifies intact, rows of every kind included', async () => {
    const { db, svc } = await setUp('chain-intact');
    // Refused: its failed row joins the chain too.
    await expect(svc.set('MAX_BATCH_SIZE', '5000', alice)).rejects.toThrow(/at most 1000/);
    const all = await rows(db).find({}).sort({ seq: 1 }).toArray();
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.some((r) => r.status !== 'success')).toBe(true);
    const report = await svc.trail.verify();
    expect(report).toMatchObject({ intact: true, rowsChecked: all.length, breaks: [] });
  });

  it('two processes appending at once never fork it: one row per place, each linked to the one before', async () => {
    const db = await openTestDb('chain-concurrent');
    onTestFinished(() => db.drop());
    const other = await connect({ uri: db.uri, dbName: db.dbName, timeoutMs: 3000 });
    onTestFinished(() => other.close());
    const a = await openService(db, { auditKeys: { signing } });
    const b = await openService({ ...db, conn: other }, { auditKeys: { signing } });
    onTestFinished(async () => {
      await Promise.all([a.close(), b.close()]);
    });
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 ? a : b).audit.record({
          key: 'MAX_BATCH_SIZE',
          action: 'view',
          status: 'success',
          actor: alice,
        }),
      ),
    );
    const all = await rows(db).find({ action: 'view' }).toArray();
    expect(all).toHaveLength(24);
    expect((await a.trail.verify()).intact).toBe(true);
  });

  it('an unreachable database fails the appends queued behind a failed one with its error, not one timeout each', async () => {
    const db = await openTestDb('chain-cut');
    onTestFinished(() => db.drop());
    const conn = await connect({ uri: db.uri, dbName: db.dbName, timeoutMs: 3000 });
    const chain = new AuditChain(conn.collection('config_audit_logs'));
    expect(await chain.append({ _id: 'before' })).toBe(true);
    await conn.close();
    const queued = await Promise.allSettled([1, 2, 3].map((i) => chain.append({ _id: `cut-${i}` })));
    const errors = queued.map((r) => (r.status === 'rejected' ? (r.reason as Error) : undefined));
    expect(errors[0]?.message).toMatch(/closed|connected/i);
    // The same error, given at once: the queued ones never went to the database themselves.
    expect(errors.slice(1)).toEqual([errors[0], errors[0]]);
    expect(errors[1]).toBe(errors[0]);
    // What is queued after the failure tries again (the database may be back by then).
    const later = await chain.append({ _id: 'after' }).catch((e: unknown) => e);
    expect(later).toBeInstanceOf(Error);
    expect(later).not.toBe(errors[0]);
  });

  it('reports a row whose content was edited, by id and place', async () => {
    const { db, svc } = await setUp('chain-edit');
    const victim = await rows(db).findOne({ seq: 3 });
    await rows(db).updateOne({ _id: victim?._id }, { $set: { reason: 'nothing to see' } });
    const report = await svc.trail.verify();
    expect(report.intact).toBe(false);
    expect(kinds(report)).toEqual([['edited', 3, String(victim?._id)]]);
    expect(describeBreak(report.breaks[0]!)).toMatch(/^row 3 \(id .+\): content edited/);
  });

  it('reports an edited row whose hash was recomputed: the next row recorded the old one', async () => {
    const { db, svc } = await setUp('chain-rehash');
    const victim = await rows(db).findOne({ seq: 2 });
    const changed = { ...victim, newValue: 1 };
    await rows(db).replaceOne({ _id: victim?._id }, { ...changed, hash: rowHash(changed) });
    expect(kinds(await svc.trail.verify())).toEqual([['edited', 2, String(victim?._id)]]);
  });

  it('reports a deleted row by the id the row after it recorded', async () => {
    const { db, svc } = await setUp('chain-delete');
    const victim = await rows(db).findOne({ seq: 4 });
    await rows(db).deleteOne({ _id: victim?._id });
    const report = await svc.trail.verify();
    expect(kinds(report)).toEqual([['missing', 4, String(victim?._id)]]);
    expect(describeBreak(report.breaks[0]!)).toContain('row 4 missing');
  });

  it('reports a row inserted around the chain, and one inserted at a taken place', async () => {
    const { db, svc } = await setUp('chain-insert');
    const forged = new mongoose.Types.ObjectId();
    await rows(db).insertOne({
      _id: forged,
      key: 'MAX_BATCH_SIZE',
      action: 'set',
      status: 'success',
      actor: alice,
      createdAt: new Date(),
    });
    expect(kinds(await svc.trail.verify())).toEqual([['inserted', undefined, forged.toHexString()]]);
  });

  it('catches a rewrite of the whole chain by a signed checkpoint, and rows cut from its end', async () => {
    const { db, svc } = await setUp('chain-rewrite');
    const head = (await svc.trail.state()).headSeq;
    const cp = await svc.trail.checkpoint();
    expect(cp).toMatchObject({ kind: 'periodic', seq: head });
    // Every row rewritten with hashes recomputed in order: links hold, only the checkpoint knows.
    let prevHash = '0'.repeat(64);
    for (const row of await rows(db).find({}).sort({ seq: 1 }).toArray()) {
      const next: Record<string, unknown> = { ...row, reason: 'rewritten', prevHash };
      next.hash = rowHash(next);
      prevHash = next.hash as string;
      await rows(db).replaceOne({ _id: row._id }, next);
    }
    const report = await svc.trail.verify();
    // Both signed checkpoints catch it: the first (after the seeded rows) and the newest.
    const genesis = (await svc.trail.state()).genesis;
    expect(kinds(report)).toEqual([
      ['checkpoint-mismatch', genesis?.seq, expect.any(String)],
      ['checkpoint-mismatch', head, expect.any(String)],
    ]);

    await rows(db).deleteMany({ seq: { $gte: head - 1 } });
    const cut = await svc.trail.verify();
    expect(cut.breaks.map((b) => [b.kind, b.seq, b.toSeq])).toContainEqual(['truncated', head - 1, head]);
  });

  it('refuses a forged checkpoint and one signed by an untrusted key; a kept copy still catches a deleted one', async () => {
    const { db, svc } = await setUp('chain-forged');
    const real = await svc.trail.checkpoint();
    const head = real!.seq;
    const kept = parseCheckpointLines(`pasted from Discord: ${checkpointLine(real!)}`).checkpoints;
    expect(kept).toHaveLength(1);
    const cps = db.conn.collection('config_audit_checkpoints');
    await cps.updateOne({ _id: real!._id as never }, { $set: { hash: 'f'.repeat(64) } });
    const stranger = parseSigningKey(newSigningKeyText());
    await cps.insertOne({
      _id: 'cp-3' as never,
      kind: 'periodic',
      seq: 3,
      hash: 'a'.repeat(64),
      at: new Date(),
      keyId: stranger.id,
      signature: signText(stranger, 'anything'),
    });
    expect((await svc.trail.verify()).breaks.map((b) => [b.kind, b.seq])).toEqual([
      ['checkpoint-untrusted', 3],
      ['checkpoint-forged', head],
    ]);
    // The attacker deletes the checkpoints and rewrites the chain: the copy kept outside catches it.
    await cps.deleteMany({ kind: 'periodic' });
    await rows(db).updateOne({ seq: head }, { $set: { reason: 'x' } });
    const last = await rows(db).findOne({ seq: head });
    await rows(db).updateOne({ seq: head }, { $set: { hash: rowHash(last!) } });
    expect(kinds(await svc.trail.verify({ external: kept }))).toEqual([
      ['checkpoint-mismatch', head, String(last?._id)],
    ]);
    // A trusted earlier key (AUDIT_TRUSTED_KEYS) makes that key's checkpoints count.
    expect(parsePublicKey(signing.publicText).id).toBe(signing.id);
  });

  it('checks no signature when given no public key at all, and says so rather than call them untrusted', async () => {
    const { db, svc } = await setUp('chain-keyless', 2);
    await svc.trail.checkpoint();
    const keyless = await openService(db);
    onTestFinished(() => keyless.close());
    const report = await keyless.trail.verify();
    expect(report).toMatchObject({ intact: true, checkpointsChecked: 0, uncheckedCheckpoints: 2 });
    expect(reportLines(report).join('\n')).toContain(
      '2 signed checkpoints not checked: no public key was given',
    );
  });

  it('seals rows written before the chain existed, once, under the first checkpoint, secrets masked', async () => {
    const db = await openTestDb('chain-legacy');
    onTestFinished(() => db.drop());
    const old = Array.from({ length: 5 }, (_, i) => ({
      _id: new mongoose.Types.ObjectId(),
      key: i === 0 ? 'EXPORT_WEBHOOK_URL' : 'MAX_BATCH_SIZE',
      action: 'set',
      status: 'success',
      newValue: i === 0 ? { enc: 'aes-256-gcm:v2', kid: 'k', iv: 'x', tag: 'y', data: 'z' } : 100 + i,
      actor: alice,
      createdAt: new Date(Date.UTC(2025, 0, 1 + i)),
    }));
    await rows(db).insertMany(old);
    const svc = await openService(db, { auditKeys: { signing } });
    onTestFinished(() => svc.close());
    const genesis = await svc.trail.begin();
    expect(genesis).toMatchObject({ kind: 'genesis', legacyRows: 5, keyId: signing.id });
    const sealed = await rows(db).find({ legacy: true }).sort({ seq: 1 }).toArray();
    expect(sealed.map((r) => String(r._id))).toEqual(old.map((r) => String(r._id)));
    expect(sealed[0]?.newValue).toBe('••••••');
    const report = await svc.trail.verify();
    expect(report).toMatchObject({ intact: true, legacyRows: 5 });
    expect(await svc.trail.begin()).toMatchObject({ at: genesis.at }); // once
  });
});
