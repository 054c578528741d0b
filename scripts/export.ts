/**
 * Runs the daily export by hand: npm run export -- [--date YYYY-MM-DD]
 * (default: today in SCHEDULE_TIMEZONE). Like the scheduled run, it exports a date at most once;
 * a date whose export failed can be exported again.
 */
import { REST } from 'discord.js';
import { restNotifier } from '../src/discord/notifier.js';
import { env } from '../src/env.js';
import { localDate } from '../src/jobs/time.js';
import { runDailyExport, slotOfDate } from '../src/jobs/daily-export.js';
import { startRuntime } from '../src/runtime.js';
import { runScript } from './lib/run.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let date: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--date') date = argv[++i];
    else {
      process.stderr.write(`Unknown argument ${argv[i]}\nusage: npm run export -- [--date YYYY-MM-DD]\n`);
      return 2;
    }
  }
  if (
    date !== undefined &&
    (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)))
  ) {
    process.stderr.write(`--date takes a date like 2026-11-22; got ${date ?? 'nothing'}\n`);
    return 2;
  }
  const e = env();
  const runtime = await startRuntime(e, { jobs: false });
  try {
    const day = date ?? localDate(new Date(), String(runtime.config.get('SCHEDULE_TIMEZONE')));
    const notifier =
      e.DISCORD_TOKEN && e.EXPORT_CHANNEL_ID ? restNotifier(new REST().setToken(e.DISCORD_TOKEN)) : undefined;
    const result = await runDailyExport(
      {
        config: runtime.config,
        conn: runtime.db.conn,
        exportDir: e.EXPORT_DIR,
        instanceId: runtime.instanceId,
        notifier,
        exportChannelId: e.EXPORT_CHANNEL_ID,
      },
      slotOfDate(runtime.config, day),
      day,
    );
    if (result.status === 'skipped') process.stdout.write(`Export skipped: ${result.reason}\n`);
    else
      process.stdout.write(
        `Exported ${day}: ${result.files.join(', ')} (${result.auditRows} audit rows) in ${result.dir}\n`,
      );
    return 0;
  } finally {
    await runtime.stop();
  }
}

runScript(main);
