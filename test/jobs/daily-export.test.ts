import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels, type ConfigAuditDoc } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { ConfigService } from '../../src/config/service.js';
import { createCommandContext } from '../../src/discord/context.js';
import { OfflineDiscord } from '../../src/offline/harness.js';
import { restNotifier } from '../../src/discord/notifier.js';
import {
  dailyExportJob,
  ExportRequestError,
  manualExportDate,
  runDailyExport,
  slotOfDate,
  type ExportDeps,
  type ExportResult,
} from '../../src/jobs/daily-export.js';
import { ExportLog } from '../../src/storage/export-log.js';
import { zonedInstant } from '../../src/jobs/time.js';
import { actor, openTestDb, type TestDb } from '../helpers/db.js';
import { APP_ID, HOME_GUILD } from '../helpers/discord.js';
import { freshService } from '../helpers/fresh.js';
import { captureLogs } from '../helpers/logs.js';
import { spawnTs } from '../helpers/process.js';
import { ensureValue, outcome } from '../helpers/outcome.js';

const EXPORT_CHANNEL = '940000000000000001';

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'config-bot-export-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function depsFor(svc: ConfigService, db: TestDb, over: Partial<ExportDeps> = {}): ExportDeps {
  return {
    config: svc,
    log: new ExportLog(db.conn, { ttlMs: 1000 }),
    exportDir: tempDir(),
    instanceId: 'test',
    settleMs: 0,
    chainWaitMs: 3000,
    ...over,
  };
}

function completed(r: ExportResult): Extract<ExportResult, { status: 'completed' }> {
  if (r.status !== 'completed') throw new Error(`expected a completed export, got: ${r.reason}`);
  return r;
}

interface Row {
  createdAt: string;
  key: string;
  scope: string;
  action: string;
  status: string;
  reason: string;
  newValue: string;
}

function csvRows(dir: string, files: readonly string[]): Row[] {
  return files
    .filter((f) => f.endsWith('.csv'))
    .flatMap((f) => parse(readFileSync(path.join(dir, f), 'utf8'), { columns: true }) as Row[]);
}

/** Audit rows written at chosen past times, straight into the audit collection. */
async function seedAuditRows(db: TestDb, times: Date[]): Promise<void> {
  const rows: ConfigAuditDoc[] = times.map((createdAt, i) => ({
    key: 'MAX_BATCH_SIZE',
    action: 'set',
    status: 'failed',
    error: 'seeded',
    actor: actor(),
    reason: `row ${i} at ${createdAt.toISOString()}`,
    createdAt,
  }));
  await bindModels(db.conn).ConfigAudit.insertMany(rows);
}

describe('daily export files', () => {
  it('writes a snapshot and CSV files of at most MAX_BATCH_SIZE rows from the first audit row, and posts them', async () => {
    const { db, svc } = await freshService('export_files');
    const discord = new OfflineDiscord(
      new Map(),
      createCommandContext(svc, { allowedGuildIds: [HOME_GUILD], adminRoleIds: [], confirmTimeoutMs: 1000 }),
      APP_ID,
    );
    onTestFinished(() => discord.destroy());
    // One init row per key (seeding), then 1 failed and 12 successful attempts.
    await expect(svc.set('MAX_BATCH_SIZE', '5000', actor())).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    for (let i = 0; i < 10; i++)
      await svc.set('IMMEDIATE_EXPORT_BUFFER', String(i + 1), actor(), 'note, with "quotes"');
    await svc.set('MAX_BATCH_SIZE', '4', actor());
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '30', actor(), '=HYPERLINK("http://evil.example","click")');
    const deps = depsFor(svc, db, {
      notifier: restNotifier(discord.client.rest),
      exportChannelId: EXPORT_CHANNEL,
    });

    const r = completed(
      await runDailyExport(deps, { date: '2026-01-02', slot: new Date(), trigger: 'schedule' }),
    );
    const total = registry.size + 13;
    expect(r.files).toEqual([
      'config-snapshot.json',
      ...Array.from({ length: Math.ceil(total / 4) }, (_, i) => `audit-00${i + 1}.csv`),
      'audit-checkpoints.txt',
    ]);
    expect(readdirSync(r.dir).sort()).toEqual([...r.files].sort());
    expect(readdirSync(deps.exportDir)).toEqual(['2026-01-02']); // no partial folder left
    const rows = csvRows(r.dir, r.files);
    expect(rows).toHaveLength(total);
    expect(r.auditRows).toBe(total);
    expect(rows.filter((row) => row.action === 'init')).toHaveLength(registry.size);
    expect(new Set(rows.map((row) => row.scope))).toEqual(new Set(['global']));
    expect(rows.some((row) => row.reason === 'note, with "quotes"')).toBe(true);
    // A reason a spreadsheet would run as a formula is written as text.
    expect(rows.some((row) => row.reason === `'=HYPERLINK("http://evil.example","click")`)).toBe(true);
    const snapshot = JSON.parse(readFileSync(path.join(r.dir, 'config-snapshot.json'), 'utf8')) as {
      values: Record<string, { value: unknown; version: number }>;
      window: { from: string; to: string };
    };
    expect(snapshot.values.MAX_BATCH_SIZE).toMatchObject({ value: 4, version: 2 });
    expect(Object.keys(snapshot.values)).toHaveLength(registry.size);
    expect(snapshot.window.to).toBe(r.window.end.toISOString());

    const post = discord.calls.find((c) => c.kind === 'channelMessage');
    expect(post?.path).toBe(`/channels/${EXPORT_CHANNEL}/messages`);
    expect(post?.files).toEqual(r.files);
    expect(String(post?.body?.content)).toMatch(
      new RegExp(
        `Daily configuration export for 2026-01-02: ${total} audit rows in ${r.files.length - 1} CSV file`,
      ),
    );
  });

  it("holds a past date's values as they were at that date's export time, not today's", async () => {
    const { db, svc } = await freshService('export_past');
    await svc.set('MAX_BATCH_SIZE', '250', actor());
    await sleep(20);
    const then = new Date();
    await sleep(20);
    await svc.set('MAX_BATCH_SIZE', '900', actor());
    await svc.set('AI_CONFIDENCE_THRESHOLD', '0.9', actor());
    const r = completed(
      await runDailyExport(depsFor(svc, db), { date: '2026-01-05', slot: then, trigger: 'manual' }),
    );
    const snapshot = JSON.parse(readFileSync(path.join(r.dir, 'config-snapshot.json'), 'utf8')) as {
      values: Record<string, { value: unknown; version: number }>;
    };
    expect(snapshot.values.MAX_BATCH_SIZE).toMatchObject({ value: 250, version: 2 });
    expect(snapshot.values.AI_CONFIDENCE_THRESHOLD).toMatchObject({ value: 0.85, version: 1 });
    expect(svc.get('MAX_BATCH_SIZE')).toBe(900);
  });
});

describe('one export per date', () => {
  it('skips a date exported already; --force exports it again with the same rows, audited', async () => {
    const { db, svc } = await freshService('export_once');
    const deps = depsFor(svc, db);
    const first = completed(
      await runDailyExport(deps, { date: '2026-01-02', slot: new Date(), trigger: 'schedule' }),
    );
    await svc.set('MAX_BATCH_SIZE', '300', actor()); // after the first export's span

    const again = await runDailyExport(deps, { date: '2026-01-02', slot: new Date(), trigger: 'manual' });
    expect(again.status).toBe('skipped');
    expect(again.status === 'skipped' && again.reason).toMatch(
      new RegExp(`2026-01-02 was exported already at .* \\(${registry.size} audit rows\\); add --force`),
    );

    const forced = completed(
      await runDailyExport(deps, {
        date: '2026-01-02',
        slot: new Date(),
        trigger: 'manual',
        force: true,
        actor: actor('123456789012345678', 'ops'),
      }),
    );
    expect(forced.window).toEqual(first.window);
    expect(forced.auditRows).toBe(first.auditRows);
    expect(readdirSync(deps.exportDir)).toEqual(['2026-01-02']);
    const audit = await bindModels(db.conn).ConfigAudit.find({ action: 'export' }).lean();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ status: 'success', actor: { tag: 'ops' } });
    expect(audit[0]?.reason).toMatch(
      `forced re-run of the export of 2026-01-02: ${registry.size} audit rows`,
    );
    const logs = await db.conn
      .collection('export_logs')
      .find({ lease: '2026-01-02' })
      .sort({ attempt: 1 })
      .toArray();
    expect(logs.map((l) => [l.attempt, l.status, l.forced ?? false])).toEqual([
      [1, 'completed', false],
      [2, 'completed', true],
    ]);
  });
});

describe('consecutive exports', () => {
  it('tile the audit log with no gap and no overlap, across a DST change and a moved export time', async () => {
    const { db, svc } = await freshService('export_tiling');
    await svc.set('SCHEDULE_TIMEZONE', 'Europe/Paris', actor());
    // Every 20 minutes from 27 to 31 March 2026: Paris moves to summer time on the 29th at 02:00.
    const start = Date.parse('2026-03-27T00:00:00Z');
    const times = Array.from({ length: 4 * 72 }, (_, i) => new Date(start + i * 20 * 60_000));
    await seedAuditRows(db, times);
    const deps = depsFor(svc, db);

    const plan: [string, string][] = [
      ['2026-03-27', '18:00'],
      ['2026-03-28', '18:00'],
      ['2026-03-29', '09:00'], // moved earlier, on the day of the change
      ['2026-03-30', '21:30'], // moved later
    ];
    const results = [];
    for (const [date, time] of plan) {
      await ensureValue(svc.set('DAILY_EXPORT_TIME', time, actor()));
      const slot = slotOfDate(svc, date);
      expect(slot.toISOString()).toBe(zonedInstant(date, time, 'Europe/Paris').toISOString());
      results.push(completed(await runDailyExport(deps, { date, slot, trigger: 'schedule' })));
    }
    // Local times map to the right instants on both sides of the change.
    expect(results.map((r) => r.window.end.toISOString())).toEqual([
      '2026-03-27T17:00:00.000Z',
      '2026-03-28T17:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T19:30:00.000Z',
    ]);
    // Each span starts where the one before ended; the first at the first audit row.
    expect(results[0]?.window.start.toISOString()).toBe('2026-03-27T00:00:00.000Z');
    for (let i = 1; i < results.length; i++)
      expect(results[i]?.window.start).toEqual(results[i - 1]?.window.end);

    const exported = results.flatMap((r) => csvRows(r.dir, r.files).map((row) => row.createdAt));
    const expected = times.filter((t) => t < new Date('2026-03-30T19:30:00Z')).map((t) => t.toISOString());
    expect(new Set(exported).size).toBe(exported.length); // no row twice
    expect(exported.sort()).toEqual(expected.sort()); // and none missing
  });

  it('refuses a missed date whose rows a later export holds, and leaves the next span after the last export', async () => {
    const { db, svc } = await freshService('export_gap');
    const start = Date.parse('2026-02-01T00:00:00Z');
    await seedAuditRows(
      db,
      Array.from({ length: 96 }, (_, i) => new Date(start + i * 3600_000)),
    );
    const deps = depsFor(svc, db);
    const slot = (d: string) => slotOfDate(svc, d);
    completed(
      await runDailyExport(deps, { date: '2026-02-01', slot: slot('2026-02-01'), trigger: 'schedule' }),
    );
    const third = completed(
      await runDailyExport(deps, { date: '2026-02-03', slot: slot('2026-02-03'), trigger: 'schedule' }),
    );
    expect(third.window.start.toISOString()).toBe('2026-02-01T18:00:00.000Z');
    const missed = await runDailyExport(deps, {
      date: '2026-02-02',
      slot: slot('2026-02-02'),
      trigger: 'manual',
    });
    expect(missed.status === 'skipped' && missed.reason).toMatch(
      /Nothing to export for 2026-02-02: the audit rows up to its export time are in the export of 2026-02-03 already/,
    );
    const fourth = completed(
      await runDailyExport(deps, { date: '2026-02-04', slot: slot('2026-02-04'), trigger: 'schedule' }),
    );
    expect(fourth.window.start).toEqual(third.window.end);
  });
});

describe('manual export dates', () => {
  it('refuses the future, a date whose export time has not passed, impossible dates and bad formats', async () => {
    const { svc } = await freshService('export_dates');
    await svc.set('SCHEDULE_TIMEZONE', 'Europe/Paris', actor());
    const now = new Date('2026-11-24T10:00:00Z'); // 11:00 in Paris; export time 18:00
    const refused = (date: string | undefined) => {
      try {
        manualExportDate(svc, date, now);
      } catch (err) {
        expect(err).toBeInstanceOf(ExportRequestError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refused('2026-11-25')).toMatch(
      /2026-11-25 is in the future \(today is 2026-11-24 in Europe\/Paris\)/,
    );
    expect(refused('2026-11-24')).toMatch(
      /cannot be exported yet: its export time is 18:00 Europe\/Paris, in 420 min/,
    );
    expect(refused('2026-02-30')).toMatch(/2026-02-30 is not a calendar date/);
    expect(refused('2026-13-01')).toMatch(/is not a calendar date/);
    expect(refused('24/11/2026')).toMatch(/takes a date like 2026-11-22; got "24\/11\/2026"/);
    expect(refused('2026-11-23')).toBe('accepted');
    // Without a date: the latest one whose export time has passed.
    expect(manualExportDate(svc, undefined, now).date).toBe('2026-11-23');
    expect(manualExportDate(svc, undefined, new Date('2026-11-24T18:00:00Z')).date).toBe('2026-11-24');
  });
});

describe('an export whose process was killed', () => {
  it('is taken over once its holder stops heart-beating: logged, partial files removed, the export completed', async () => {
    const { db, svc } = await freshService('export_killed');
    const deps = depsFor(svc, db);
    const child = spawnTs('test/fixtures/export-holder.ts', [
      db.uri,
      db.dbName,
      deps.exportDir,
      '2026-01-07',
    ]);
    onTestFinished(() => void child.proc.kill('SIGKILL'));
    const held = JSON.parse(await child.nextLine(30_000, 'the holder to take the date')) as {
      holder: string;
    };
    const partial = readdirSync(deps.exportDir);
    expect(partial).toEqual([expect.stringMatching(/^\.2026-01-07\.partial-/)]);

    // Alive and heart-beating: the date is its.
    const busy = await runDailyExport(deps, { date: '2026-01-07', slot: new Date(), trigger: 'manual' });
    expect(busy.status === 'skipped' && busy.reason).toMatch(new RegExp(`being exported by ${held.holder}`));

    child.proc.kill('SIGKILL');
    await child.closed();
    await sleep(1200); // past the 1 s TTL
    const logs = captureLogs();
    onTestFinished(logs.stop);
    const r = completed(
      await runDailyExport(deps, { date: '2026-01-07', slot: new Date(), trigger: 'manual' }),
    );
    expect(r.tookOverFrom).toBe(held.holder);
    expect(logs.lines.some((l) => l.includes(`Took over the export of 2026-01-07 from ${held.holder}`))).toBe(
      true,
    );
    expect(readdirSync(deps.exportDir)).toEqual(['2026-01-07']);
    expect(existsSync(path.join(r.dir, 'config-snapshot.json'))).toBe(true);
    const attempts = await db.conn
      .collection('export_logs')
      .find({ lease: '2026-01-07' })
      .sort({ attempt: 1 })
      .toArray();
    expect(attempts.map((a) => [a.holder, a.status])).toEqual([
      [held.holder, 'abandoned'],
      ['test', 'completed'],
    ]);
  });
});

describe('EXPORT_WEBHOOK_URL', () => {
  async function hookServer(status: number): Promise<{ url: string; bodies: unknown[]; server: Server }> {
    const bodies: unknown[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        bodies.push({
          method: req.method,
          type: req.headers['content-type'],
          json: JSON.parse(body) as unknown,
        });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-token-123`,
      bodies,
      server,
    };
  }

  async function secretService(label: string) {
    const db = await openTestDb(label);
    const svc = new ConfigService({ registry, conn: db.conn, encryptionKeys: [randomBytes(32)] });
    await svc.init();
    onTestFinished(async () => {
      await svc.close();
      await db.drop();
    });
    return { db, svc };
  }

  it('receives the summary as JSON; the secret URL is in no file and no log line', async () => {
    const { db, svc } = await secretService('export_hook');
    const hook = await hookServer(204);
    expect((await outcome(svc.set('EXPORT_WEBHOOK_URL', hook.url, actor()))).ok).toBe(true);
    const logs = captureLogs();
    onTestFinished(logs.stop);
    const r = completed(
      await runDailyExport(depsFor(svc, db), { date: '2026-01-08', slot: new Date(), trigger: 'schedule' }),
    );
    expect(r.webhook).toBe('delivered (HTTP 204)');
    expect(hook.bodies).toEqual([
      {
        method: 'POST',
        type: 'application/json',
        json: expect.objectContaining({
          event: 'daily-export.completed',
          date: '2026-01-08',
          auditRows: r.auditRows,
          files: r.files,
          window: { from: r.window.start.toISOString(), to: r.window.end.toISOString() },
        }),
      },
    ]);
    for (const f of r.files)
      expect(readFileSync(path.join(r.dir, f), 'utf8')).not.toContain('secret-token-123');
    expect(logs.lines.join('\n')).not.toContain('secret-token-123');
  });

  it('answering 500 leaves the export completed, with the refusal logged and recorded', async () => {
    const { db, svc } = await secretService('export_hook500');
    const hook = await hookServer(500);
    await svc.set('EXPORT_WEBHOOK_URL', hook.url, actor());
    const logs = captureLogs();
    onTestFinished(logs.stop);
    const r = completed(
      await runDailyExport(depsFor(svc, db), { date: '2026-01-09', slot: new Date(), trigger: 'schedule' }),
    );
    expect(r.webhook).toBe('refused by ' + new URL(hook.url).host + ' (HTTP 500)');
    expect(hook.bodies).toHaveLength(1);
    expect(
      logs.lines.some((l) => l.includes('warn') && l.includes('Export summary of 2026-01-09 refused')),
    ).toBe(true);
    const log = await db.conn.collection('export_logs').findOne({ lease: '2026-01-09' });
    expect(log).toMatchObject({ status: 'completed', webhook: r.webhook });
  });
});

describe('the scheduled job', () => {
  it('is scheduled at DAILY_EXPORT_TIME and a manual date maps to that time in SCHEDULE_TIMEZONE', async () => {
    const { db, svc } = await freshService('export_job');
    const job = dailyExportJob(depsFor(svc, db));
    await svc.set('DAILY_EXPORT_TIME', '19:30', actor());
    expect(job.cron(svc)).toBe('30 19 * * *');
    await svc.set('SCHEDULE_TIMEZONE', 'Europe/Paris', actor());
    expect(slotOfDate(svc, '2026-07-01').toISOString()).toBe('2026-07-01T17:30:00.000Z');
    expect(zonedInstant('2026-01-15', '19:30', 'Europe/Paris').toISOString()).toBe(
      '2026-01-15T18:30:00.000Z',
    );
  });

  it('waits DB_TIMEOUT_MS past its time, so that a row stamped just before it is in it', async () => {
    const { db, svc } = await freshService('export_settle');
    const slot = new Date(Date.now() + 300);
    const deps = depsFor(svc, db, { settleMs: 700 });
    const running = runDailyExport(deps, { date: '2026-01-10', slot, trigger: 'schedule' });
    // Stamped before the export time, written after it (a slow write).
    await sleep(500);
    await seedAuditRows(db, [new Date(slot.getTime() - 50)]);
    const r = completed(await running);
    expect(csvRows(r.dir, r.files).map((row) => row.createdAt)).toContain(
      new Date(slot.getTime() - 50).toISOString(),
    );
  });
});
