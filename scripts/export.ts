/**
 * Runs the daily export by hand: npm run export -- [--date YYYY-MM-DD] [--force]
 *
 * Without --date: the latest date whose export time (DAILY_EXPORT_TIME in SCHEDULE_TIMEZONE) has
 * passed. A date is exported once; --force exports it again (same span of audit rows, fresh
 * files, audited). Exits 0 when exported, 1 when there was nothing to do (exported already, being
 * exported, covered by a later export), 2 for a wrong request.
 */
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { runEntryPoint } from '../src/app/cli.js';
import {
  checkCalendarDate,
  ExportRequestError,
  manualExportDate,
  runDailyExport,
} from '../src/jobs/daily-export.js';

const USAGE = 'usage: npm run export -- [--date YYYY-MM-DD] [--force]';

function parse(): { date?: string; force: boolean } | string {
  try {
    const { values } = parseArgs({
      options: {
        date: { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) return USAGE;
    // A date that is no date is refused before anything starts (the database may be down).
    if (values.date !== undefined) checkCalendarDate(values.date);
    return { ...(values.date !== undefined ? { date: values.date } : {}), force: values.force };
  } catch (err) {
    if (err instanceof ExportRequestError) return err.message;
    // parseArgs' own words ("Option '--date <value>' argument missing") name the problem.
    return `${(err as Error).message}\n${USAGE}`;
  }
}

runEntryPoint(async (e) => {
  const args = parse();
  if (typeof args === 'string') {
    process.stderr.write(`${args}\n`);
    return args === USAGE ? 0 : 2;
  }
  // Loaded once the request holds: a wrong one is answered at once.
  const [{ startRuntime }, { exportDeps }, { REST }, { restNotifier }] = await Promise.all([
    import('../src/app/runtime.js'),
    import('../src/app/jobs.js'),
    import('discord.js'),
    import('../src/discord/notifier.js'),
  ]);
  const runtime = await startRuntime(e, { jobs: false });
  try {
    if (runtime.config.stats().startedFrom !== 'database') {
      process.stderr.write(
        'The database cannot be reached: an export reads the audit log from it. Start the database or fix MONGODB_URI, then try again.\n',
      );
      return 1;
    }
    let target: { date: string; slot: Date };
    try {
      target = manualExportDate(runtime.config, args.date);
    } catch (err) {
      if (!(err instanceof ExportRequestError)) throw err;
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    const notifier =
      e.DISCORD_TOKEN && e.EXPORT_CHANNEL_ID ? restNotifier(new REST().setToken(e.DISCORD_TOKEN)) : undefined;
    const deps = exportDeps({
      config: runtime.config,
      conn: runtime.db.conn,
      env: e,
      instanceId: runtime.instanceId,
      manual: true,
      ...(notifier ? { notifier } : {}),
    });
    const result = await runDailyExport(deps, {
      ...target,
      trigger: 'manual',
      force: args.force,
      actor: { id: 'cli', tag: `${userInfo().username}@${hostname()}` },
    });
    if (result.status === 'skipped') {
      process.stderr.write(`Not exported: ${result.reason}\n`);
      return 1;
    }
    process.stdout.write(
      `Exported ${result.date}: ${result.auditRows} audit rows from ${result.window.start.toISOString()} to ${result.window.end.toISOString()}, ` +
        `${result.files.join(', ')} in ${result.dir}` +
        `${result.tookOverFrom ? ` (took over from ${result.tookOverFrom}, which stopped)` : ''}` +
        `${result.webhook ? `; webhook ${result.webhook}` : ''}\n`,
    );
    return 0;
  } finally {
    await runtime.stop();
  }
});
