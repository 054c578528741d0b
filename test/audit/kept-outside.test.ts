import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it, onTestFinished } from 'vitest';
import { checkpointLine, parseCheckpointLines } from '../../src/audit/checkpoints.js';
import { newSigningKeyText, parseSigningKey } from '../../src/audit/signing.js';
import type { ConfigService } from '../../src/config/service.js';
import { createCommandContext } from '../../src/discord/context.js';
import { restNotifier } from '../../src/discord/notifier.js';
import { auditCheckpointJob } from '../../src/jobs/audit-checkpoint.js';
import { runDailyExport } from '../../src/jobs/daily-export.js';
import { OfflineDiscord } from '../../src/offline/harness.js';
import { CHAIN_START, rowHash } from '../../src/storage/audit-hash.js';
import { ExportLog } from '../../src/storage/export-log.js';
import { actor, type TestDb } from '../helpers/db.js';
import { APP_ID, HOME_GUILD } from '../helpers/discord.js';
import { freshService } from '../helpers/fresh.js';

// The copies of the audit log's checkpoints kept outside the database, where a rewrite of it
// cannot reach: the daily export's audit-checkpoints.txt and the checkpoint job's post in the
// alert channel. Each is checked the way a verifier would use it, against a rewritten chain.

const signing = parseSigningKey(newSigningKeyText());
const ALERT_CHANNEL = '950000000000000001';

const rowsOf = (db: TestDb) => db.conn.collection('config_audit_logs');

/** Rewrites the row at `seq` with its hash recomputed, as an attacker with the database would. */
async function rewrite(db: TestDb, seq: number): Promise<string> {
  const row = await rowsOf(db).findOne({ seq });
  const changed = { ...row!, reason: 'rewritten' };
  await rowsOf(db).replaceOne({ _id: row!._id }, { ...changed, hash: rowHash(changed) });
  return String(row!._id);
}

async function signedService(label: string): Promise<{ db: TestDb; svc: ConfigService }> {
  return freshService(label, { auditKeys: { signing } });
}

interface CsvRow {
  key: string;
  seq: string;
  hash: string;
  prevHash: string;
}

describe('the daily export', () => {
  it('carries seq, hash and prevHash per row, and signed checkpoints covering its last row that verify on their own', async () => {
    const { db, svc } = await signedService('audit_export');
    await svc.trail.begin();
    for (let i = 0; i < 3; i++) await svc.set('MAX_BATCH_SIZE', String(500 + i), actor());
    const exportDir = mkdtempSync(path.join(tmpdir(), 'config-bot-audit-export-'));
    onTestFinished(() => rmSync(exportDir, { recursive: true, force: true }));
    const r = await runDailyExport(
      {
        config: svc,
        log: new ExportLog(db.conn, { ttlMs: 1000 }),
        exportDir,
        instanceId: 'test',
        settleMs: 0,
        chainWaitMs: 3000,
      },
      { date: '2026-01-02', slot: new Date(), trigger: 'schedule' },
    );
    if (r.status !== 'completed') throw new Error(`expected a completed export, got: ${r.reason}`);
    expect(r.files.at(-1)).toBe('audit-checkpoints.txt');

    // Each row's place and links, as the database holds them.
    const csv = r.files
      .filter((f) => f.endsWith('.csv'))
      .flatMap((f) => parse(readFileSync(path.join(r.dir, f), 'utf8'), { columns: true }) as CsvRow[]);
    const stored = await rowsOf(db).find({}).sort({ seq: 1 }).toArray();
    expect(csv.map((c) => Number(c.seq))).toEqual(stored.map((s) => s.seq));
    expect(csv.map((c) => c.hash)).toEqual(stored.map((s) => s.hash));
    expect(csv.map((c) => c.prevHash)).toEqual([CHAIN_START, ...stored.slice(0, -1).map((s) => s.hash)]);
    const last = Number(csv.at(-1)?.seq);

    const text = readFileSync(path.join(r.dir, 'audit-checkpoints.txt'), 'utf8');
    expect(text.split('\n')[0]).toBe(
      `# Checkpoints of the audit log covering rows 1-${last} of this export (npm run audit:verify -- --checkpoints FILE).`,
    );
    const { checkpoints, problems } = parseCheckpointLines(text);
    expect(problems).toEqual([]);
    expect(checkpoints.every((c) => c.keyId === signing.id)).toBe(true);
    expect(Math.max(...checkpoints.map((c) => c.seq))).toBeGreaterThanOrEqual(last);

    // Kept apart, the file's lines stand in for the stored checkpoints, which an attacker deletes
    // before rewriting the export's last row.
    await db.conn.collection('config_audit_checkpoints').deleteMany({});
    expect(await svc.trail.verify({ external: checkpoints })).toMatchObject({
      intact: true,
      checkpointsChecked: checkpoints.length,
    });
    const id = await rewrite(db, last);
    const report = await svc.trail.verify({ external: checkpoints });
    expect(report.breaks).toContainEqual(
      expect.objectContaining({
        kind: 'checkpoint-mismatch',
        seq: last,
        id,
        checkpoint: expect.objectContaining({ source: 'file' }) as unknown,
      }),
    );
  });
});

describe('the audit-checkpoint job', () => {
  it('begins the chain, signs the head only when it moved, and posts each checkpoint line to the alert channel', async () => {
    const { db, svc } = await signedService('audit_checkpoint_job');
    const discord = new OfflineDiscord(
      new Map(),
      createCommandContext(svc, { allowedGuildIds: [HOME_GUILD], adminRoleIds: [], confirmTimeoutMs: 1000 }),
      APP_ID,
    );
    onTestFinished(() => discord.destroy());
    const notifier = restNotifier(discord.client.rest);
    const job = auditCheckpointJob({
      config: svc,
      minutes: 15,
      post: (text) => notifier.post(ALERT_CHANNEL, text),
    });
    const run = () => job.run({ slot: new Date(), config: svc });
    const posts = () => discord.calls.filter((c) => c.kind === 'channelMessage');
    expect(job.cron(svc)).toBe('*/15 * * * *');

    // A database without a chain: the run begins it, and the signed genesis covers the head.
    expect(await run()).toBe('no new audit rows since the last checkpoint');
    expect((await svc.trail.state()).genesis).toMatchObject({ keyId: signing.id });
    expect(posts()).toHaveLength(0);

    await svc.set('MAX_BATCH_SIZE', '600', actor());
    const head = (await svc.trail.state()).headSeq;
    expect(await run()).toBe(`signed the audit log up to row ${head} and posted it`);
    expect(await run()).toBe('no new audit rows since the last checkpoint');
    const [post] = posts();
    expect(posts()).toHaveLength(1);
    expect(post?.path).toBe(`/channels/${ALERT_CHANNEL}/messages`);
    const content = String(post?.body?.content);
    const latest = (await svc.trail.state()).latest;
    expect(latest).toMatchObject({ kind: 'periodic', seq: head });
    expect(content).toContain(`\n${checkpointLine(latest!)}\n`);

    // The message as pasted into a file by whoever keeps it: it catches a rewrite of that row
    // after the stored checkpoints are deleted.
    const kept = parseCheckpointLines(content);
    expect(kept.problems).toEqual([]);
    expect(kept.checkpoints).toMatchObject([{ seq: head, keyId: signing.id }]);
    await db.conn.collection('config_audit_checkpoints').deleteMany({});
    const id = await rewrite(db, head);
    expect((await svc.trail.verify({ external: kept.checkpoints })).breaks).toEqual([
      expect.objectContaining({ kind: 'checkpoint-mismatch', seq: head, id }),
    ]);
  });
});
