import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigService } from '../../src/config/service.js';
import { createCommandContext } from '../../src/discord/context.js';
import { OfflineDiscord } from '../../src/discord/harness.js';
import { restNotifier } from '../../src/discord/notifier.js';
import { dailyExportJob, runDailyExport, slotOfDate, type ExportDeps } from '../../src/jobs/daily-export.js';
import { zonedInstant } from '../../src/jobs/time.js';
import { actor, openService, openTestDb, type TestDb } from '../helpers/db.js';
import { APP_ID, HOME_GUILD } from '../helpers/discord.js';

const EXPORT_CHANNEL = '940000000000000001';
let db: TestDb;
let svc: ConfigService;
let dir: string;
let discord: OfflineDiscord;
let deps: ExportDeps;

beforeAll(async () => {
  db = await openTestDb('export');
  svc = await openService(db);
  dir = mkdtempSync(path.join(tmpdir(), 'config-bot-export-'));
  discord = new OfflineDiscord(
    new Map(),
    createCommandContext(svc, { allowedGuildIds: [HOME_GUILD], adminRoleIds: [], confirmTimeoutMs: 1000 }),
    APP_ID,
  );
  deps = {
    config: svc,
    conn: db.conn,
    exportDir: dir,
    instanceId: 'test',
    notifier: restNotifier(discord.client.rest),
    exportChannelId: EXPORT_CHANNEL,
  };
  // 7 init rows, then 1 failed and 10 successful attempts: 18 audit rows in the window.
  await svc.set('MAX_BATCH_SIZE', '5000', actor());
  for (let i = 0; i < 10; i++)
    await svc.set('IMMEDIATE_EXPORT_BUFFER', String(i + 1), actor(), 'note, with "quotes"');
  await svc.set('MAX_BATCH_SIZE', '4', actor());
});
afterAll(async () => {
  await discord.destroy();
  await svc.close();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('daily export', () => {
  it('writes a snapshot and CSV files of at most MAX_BATCH_SIZE rows, and posts them', async () => {
    const slot = new Date(Date.now() + 1000);
    const result = await runDailyExport(deps, slot, '2026-01-02');
    expect(result.status).toBe('completed');
    const files = readdirSync(path.join(dir, '2026-01-02')).sort();
    // 19 rows (7 init, 1 failed, 11 sets) in batches of 4: 5 files.
    expect(files).toEqual([
      'audit-001.csv',
      'audit-002.csv',
      'audit-003.csv',
      'audit-004.csv',
      'audit-005.csv',
      'config-snapshot.json',
    ]);
    const rows = files
      .filter((f) => f.endsWith('.csv'))
      .map((f) =>
        readFileSync(path.join(dir, '2026-01-02', f), 'utf8')
          .trim()
          .split('\n')
          .slice(1),
      );
    expect(rows.map((r) => r.length)).toEqual([4, 4, 4, 4, 3]);
    expect(result.auditRows).toBe(19);
    expect(rows.flat().some((r) => r.includes('"note, with ""quotes"""'))).toBe(true);
    const snapshot = JSON.parse(
      readFileSync(path.join(dir, '2026-01-02', 'config-snapshot.json'), 'utf8'),
    ) as {
      values: Record<string, { value: unknown; version: number }>;
    };
    expect(snapshot.values.MAX_BATCH_SIZE).toMatchObject({ value: 4, version: 2 });
    expect(Object.keys(snapshot.values)).toHaveLength(7);

    const post = discord.calls.find((c) => c.kind === 'channelMessage');
    expect(post?.path).toBe(`/channels/${EXPORT_CHANNEL}/messages`);
    expect(post?.files).toEqual(result.files);
    expect(String(post?.body?.content)).toMatch(
      /Daily configuration export for 2026-01-02: 19 audit rows in 5 CSV file/,
    );
  });

  it('runs at most once per date: a second run is skipped', async () => {
    const again = await runDailyExport(deps, new Date(), '2026-01-02');
    expect(again).toMatchObject({ status: 'skipped' });
    expect(again.reason).toMatch(/already completed for 2026-01-02/);
    const logs = await db.conn
      .collection('export_logs')
      .find({ _id: '2026-01-02' as never })
      .toArray();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ status: 'completed', auditRows: 19 });
  });

  it('only exports audit rows of the 24 hours before its scheduled time', async () => {
    const result = await runDailyExport(deps, new Date(Date.now() - 25 * 3600_000), '2026-01-03');
    expect(result.auditRows).toBe(0);
    expect(result.files).toEqual(['config-snapshot.json']);
  });

  it('is scheduled at DAILY_EXPORT_TIME and a manual date maps to that time in SCHEDULE_TIMEZONE', async () => {
    const job = dailyExportJob(deps);
    await svc.set('DAILY_EXPORT_TIME', '19:30', actor());
    expect(job.cron(svc)).toBe('30 19 * * *');
    await svc.set('SCHEDULE_TIMEZONE', 'Europe/Paris', actor());
    expect(slotOfDate(svc, '2026-07-01').toISOString()).toBe('2026-07-01T17:30:00.000Z');
    expect(zonedInstant('2026-01-15', '19:30', 'Europe/Paris').toISOString()).toBe(
      '2026-01-15T18:30:00.000Z',
    );
  });
});
