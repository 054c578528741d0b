import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { env } from '../../src/app/env.js';
import { createJobs } from '../../src/jobs/index.js';
import { exportDeps } from '../../src/app/jobs.js';
import { JobRuns } from '../../src/storage/job-runs.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { startBot } from '../helpers/discord.js';
import { freshService } from '../helpers/fresh.js';

const fieldsOf = (embed: { fields?: { name: string; value: string }[] } | undefined) =>
  Object.fromEntries((embed?.fields ?? []).map((f) => [f.name, f.value]));

describe('/config set dry-run', () => {
  it('shows environments, the job’s next runs before and after, approvals and the way back, and writes nothing', async () => {
    const { db, svc } = await freshService('dry_run', { approvals: { high: 1 } });
    const exportDir = mkdtempSync(path.join(tmpdir(), 'config-bot-dry-'));
    const scheduler = new Scheduler({
      config: svc,
      runs: new JobRuns(db.conn),
      instanceId: 'dry-1',
      jobs: createJobs(
        exportDeps({
          config: svc,
          conn: db.conn,
          env: { ...env(), EXPORT_DIR: exportDir },
          instanceId: 'dry-1',
        }),
      ),
    });
    const bot = await startBot(
      svc,
      {},
      { instanceId: 'dry-1', startedAt: new Date(), database: 'test', scheduler },
    );
    onTestFinished(async () => {
      await bot.close();
      rmSync(exportDir, { recursive: true, force: true });
    });
    const [, reply] = await bot
      .session()
      .run('/config set setting:DAILY_EXPORT_TIME value:20:30 dry-run:true');
    const embed = reply?.embeds[0];
    expect(embed?.title).toBe('Dry run: DAILY_EXPORT_TIME');
    expect(embed?.description).toContain('18:00 → 20:30');
    const f = fieldsOf(embed);
    expect(f['Per environment']).toBe('production: 18:00 → 20:30');
    expect(f['Job daily-export: next runs']).toMatch(
      /^Now `0 18 \* \* \*` UTC: (<t:\d+:f>, ){2}<t:\d+:f>\nThen `30 20 \* \* \*` UTC: /,
    );
    expect(f.Approvals).toBe('medium impact: applies at once');
    expect(f['Way back']).toBe('/config rollback setting:DAILY\\_EXPORT\\_TIME version:1');
    expect(svc.get('DAILY_EXPORT_TIME')).toBe('18:00');
    expect(await bindModels(db.conn).ConfigVersion.countDocuments({ key: 'DAILY_EXPORT_TIME' })).toBe(1);

    const [, high] = await bot
      .session()
      .run('/config set setting:AI_CONFIDENCE_THRESHOLD value:0.9 dry-run:true');
    expect(fieldsOf(high?.embeds[0]).Approvals).toBe(
      'high impact: needs 1 approval (becomes a change request)',
    );
    expect(await svc.requests.list()).toEqual([]);
  });

  it('refuses a value the set would refuse, with the same message', async () => {
    const { svc } = await freshService('dry_run_bad');
    const bot = await startBot(svc);
    onTestFinished(() => bot.close());
    const [, reply] = await bot
      .session()
      .run('/config set setting:DAILY_EXPORT_TIME value:23:00 dry-run:true');
    expect(reply?.embeds[0]?.description).toContain('Export time must be between 06:00 and 22:00');
  });
});
