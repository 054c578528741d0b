import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { impactOf } from '../../src/approvals/impact.js';
import { env } from '../../src/app/env.js';
import { createJobs } from '../../src/jobs/index.js';
import { exportDeps } from '../../src/app/jobs.js';
import { JobRuns } from '../../src/storage/job-runs.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { actor } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';

const alice = actor();

describe('the impact preview', () => {
  it('shows a schedule key’s jobs with their next three runs before and after, and the way back', async () => {
    const { db, svc } = await freshService('impact_schedule', { approvals: { high: 1 } });
    const exportDir = mkdtempSync(path.join(tmpdir(), 'config-bot-impact-'));
    onTestFinished(() => rmSync(exportDir, { recursive: true, force: true }));
    const scheduler = new Scheduler({
      config: svc,
      runs: new JobRuns(db.conn),
      instanceId: 'impact-1',
      jobs: createJobs(
        exportDeps({
          config: svc,
          conn: db.conn,
          env: { ...env(), EXPORT_DIR: exportDir },
          instanceId: 'impact-1',
        }),
      ),
    });
    const preview = await svc.previewSet('DAILY_EXPORT_TIME', '20:30', alice);
    const impact = await impactOf({ config: svc, scheduler }, preview);
    expect(impact).toMatchObject({ before: '18:00', after: '20:30', restart: false });
    expect(impact.approvals).toEqual({ level: 'medium', needed: 0 });
    expect(impact.rollback).toBe('/config rollback setting:DAILY_EXPORT_TIME version:1');
    expect(impact.environments).toEqual([{ environment: 'production', before: '18:00', after: '20:30' }]);
    const [job] = impact.jobs;
    expect(job?.job).toBe('daily-export');
    expect(job?.before.next.map((d) => d.toISOString().slice(11, 16))).toEqual(['18:00', '18:00', '18:00']);
    expect(job && 'next' in job.after && job.after.next.map((d) => d.toISOString().slice(11, 16))).toEqual([
      '20:30',
      '20:30',
      '20:30',
    ]);
    // A time-zone change moves the same runs.
    const tz = await impactOf(
      { config: svc, scheduler },
      await svc.previewSet('SCHEDULE_TIMEZONE', 'Asia/Tokyo', alice),
    );
    expect(tz.approvals).toEqual({ level: 'high', needed: 1 });
    expect(
      tz.jobs[0] && 'next' in tz.jobs[0].after && tz.jobs[0].after.next[0]?.toISOString().slice(11, 16),
    ).toBe('09:00');
  });

  it('refuses what the write would refuse, before any impact is computed', async () => {
    const { svc } = await freshService('impact_refused');
    await expect(svc.previewSet('DAILY_EXPORT_TIME', '25:00', alice)).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    });
    await expect(svc.previewSet('DAILY_EXPORT_TIME', '18:00', alice)).rejects.toMatchObject({
      code: 'UNCHANGED',
    });
  });
});
