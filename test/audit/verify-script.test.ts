import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointLine } from '../../src/audit/checkpoints.js';
import { newSigningKeyText, parseSigningKey, type SigningKey } from '../../src/audit/signing.js';
import type { ChainReport } from '../../src/audit/verify.js';
import type { ConfigService } from '../../src/config/service.js';
import { rowHash } from '../../src/storage/audit-hash.js';
import { actor, openService, openTestDb, type TestDb } from '../helpers/db.js';
import { looksLikeStackTrace, runScript, type ScriptRun } from '../helpers/scripts.js';

// `npm run audit:verify` as an operator runs it: a separate process against the database. Each
// process costs seconds, so the four run at once: a new key, an intact log, a tampered one (with
// a checkpoint kept outside the database), and bad arguments.

const alice = actor('111111111111111111', 'alice');
const SCRIPT = 'scripts/audit-verify.ts';

let dataDir: string;
let keyRun: ScriptRun;
const keyText = newSigningKeyText();
const signing: SigningKey = parseSigningKey(keyText);
const opened: { db: TestDb; svc: ConfigService }[] = [];
let intact: { db: TestDb; head: number; run: ScriptRun };
let tampered: { db: TestDb; head: number; editedId: string; rewrittenId: string; run: ScriptRun };
let badRange: ScriptRun;

/** A database whose chain has begun and holds a few changes, signed by `signing`. */
async function chained(label: string): Promise<{ db: TestDb; svc: ConfigService }> {
  const db = await openTestDb(label);
  const svc = await openService(db, { auditKeys: { signing } });
  opened.push({ db, svc });
  await svc.trail.begin();
  for (let i = 0; i < 4; i++) await svc.set('MAX_BATCH_SIZE', String(201 + i), alice, `change ${i}`);
  return { db, svc };
}

const run = (db: TestDb | undefined, args: string[], env: Record<string, string> = {}) =>
  runScript(SCRIPT, args, {
    env: {
      ...(db ? { MONGODB_URI: db.uri, MONGODB_DB_NAME: db.dbName } : {}),
      DATA_DIR: dataDir,
      DISCORD_TOKEN: '',
      DISCORD_GUILD_ID: '',
      AUDIT_SIGNING_KEY: '',
      AUDIT_TRUSTED_KEYS: '',
      ...env,
    },
  });

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-audit-verify-'));
  const a = await chained('verify_script_intact');
  await a.svc.trail.checkpoint();
  const b = await chained('verify_script_tampered');
  const cp = await b.svc.trail.checkpoint();
  const checkpointsFile = path.join(dataDir, 'kept-checkpoints.txt');
  // As pasted from the alert channel: the checkpoint line among other text.
  writeFileSync(
    checkpointsFile,
    `🔏 Audit log checkpoint: rows 1–${cp?.seq} signed.\n\`\`\`\n${checkpointLine(cp!)}\n\`\`\`\n`,
  );

  // Tampering through the driver: one row edited in place, then the stored checkpoints deleted
  // and the newest row rewritten with its hash recomputed, which only the kept line can catch.
  const rows = b.db.conn.collection('config_audit_logs');
  const edited = await rows.findOne({ seq: 3 });
  await rows.updateOne({ _id: edited!._id }, { $set: { reason: 'nothing to see' } });
  await b.db.conn.collection('config_audit_checkpoints').deleteMany({ kind: 'periodic' });
  const last = await rows.findOne({ seq: cp!.seq });
  const rewritten = { ...last!, reason: 'rewritten' };
  await rows.replaceOne({ _id: last!._id }, { ...rewritten, hash: rowHash(rewritten) });

  const [newKey, aRun, bRun, rangeRun] = await Promise.all([
    run(undefined, ['--new-key']),
    run(a.db, [], { AUDIT_SIGNING_KEY: keyText }),
    // A verifier with only the public key, as an auditor holds it.
    run(b.db, ['--json', '--checkpoints', checkpointsFile, '--public-key', signing.publicText]),
    run(a.db, ['--from', '5', '--to', '2']),
  ]);
  intact = { db: a.db, head: (await a.svc.trail.state()).headSeq, run: aRun };
  tampered = {
    db: b.db,
    head: cp!.seq,
    editedId: String(edited!._id),
    rewrittenId: String(last!._id),
    run: bRun,
  };
  badRange = rangeRun;
  keyRun = newKey;
}, 120_000);

afterAll(async () => {
  for (const { db, svc } of opened) {
    await svc.close();
    await db.drop();
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run audit:verify', () => {
  it('--new-key prints a signing key that parseSigningKey accepts, and its public half', () => {
    expect(keyRun.code).toBe(0);
    const made = /^AUDIT_SIGNING_KEY=(\S+)$/m.exec(keyRun.stdout)?.[1] ?? '';
    const key = parseSigningKey(made);
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(keyRun.stdout).toContain(
      `public key (give it to whoever verifies; /config status shows it): ${key.publicText}\n`,
    );
    // A new one each time, not a fixed key.
    expect(key.id).not.toBe(signing.id);
  });

  it('exits 0 on an intact log, with its summary line', () => {
    expect(intact.run.code).toBe(0);
    expect(looksLikeStackTrace(intact.run.stderr)).toBe(false);
    const lines = intact.run.stdout.trimEnd().split('\n');
    // The genesis checkpoint and the periodic one, both signed by the key the script made.
    expect(lines[0]).toBe(`Intact: checked the whole chain (${intact.head} rows, 2 signed checkpoints).`);
    expect(lines[1]).toMatch(/^The chain began \d{4}-\d\d-\d\dT[\d:.]+Z with no earlier rows\.$/);
    expect(lines).toHaveLength(2);
  });

  it('exits 1 on a tampered log, naming the edited row and the rewrite a kept checkpoint catches (--json)', () => {
    expect(tampered.run.code).toBe(1);
    expect(looksLikeStackTrace(tampered.run.stderr)).toBe(false);
    const report = JSON.parse(tampered.run.stdout) as ChainReport;
    expect(report).toMatchObject({
      intact: false,
      from: 1,
      to: report.headSeq,
      rowsChecked: report.headSeq,
      // The genesis stored in the database and the line from the file.
      checkpointsChecked: 2,
      moreBreaks: 0,
    });
    expect(report.headSeq).toBeGreaterThanOrEqual(tampered.head);
    expect(report.breaks).toEqual([
      { kind: 'edited', seq: 3, id: tampered.editedId },
      {
        kind: 'checkpoint-mismatch',
        seq: tampered.head,
        id: tampered.rewrittenId,
        checkpoint: { at: expect.any(String) as unknown, kind: 'periodic', source: 'file' },
      },
    ]);
  });

  it('exits 2 with one plain line when --from is after --to', () => {
    expect(badRange.code).toBe(2);
    expect(badRange.stdout).toBe('');
    expect(badRange.stderr).toBe('--from 5 is after --to 2\n');
  });
});
