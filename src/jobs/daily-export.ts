import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Schema, type Connection, type Model } from 'mongoose';
import type { ConfigAuditDoc } from '../config/models.js';
import type { ConfigService } from '../config/service.js';
import { isDuplicateKeyError } from '../db/connection.js';
import type { Attachment, Notifier } from '../discord/notifier.js';
import { errorDetail, logger } from '../logger.js';
import type { JobDefinition } from '../scheduler/types.js';
import { localDate, zonedInstant } from './time.js';

export interface ExportDeps {
  config: ConfigService;
  conn: Connection;
  /** Files go to `${exportDir}/YYYY-MM-DD/`. */
  exportDir: string;
  instanceId: string;
  notifier?: Notifier;
  exportChannelId?: string;
}

export interface ExportResult {
  date: string;
  status: 'completed' | 'skipped';
  dir: string;
  files: string[];
  auditRows: number;
  reason?: string;
}

interface ExportLogDoc {
  _id: string;
  status: 'running' | 'completed' | 'failed';
  instance: string;
  startedAt: Date;
  finishedAt?: Date;
  files?: string[];
  auditRows?: number;
  error?: string;
}

const exportLogSchema = new Schema<ExportLogDoc>(
  {
    _id: { type: String, required: true },
    status: { type: String, required: true },
    instance: { type: String, required: true },
    startedAt: { type: Date, required: true },
    finishedAt: Date,
    files: [String],
    auditRows: Number,
    error: String,
  },
  { collection: 'export_logs', versionKey: false, bufferCommands: false },
);

function exportLogs(conn: Connection): Model<ExportLogDoc> {
  return (
    (conn.models.ExportLog as Model<ExportLogDoc> | undefined) ??
    conn.model<ExportLogDoc>('ExportLog', exportLogSchema)
  );
}

const CSV_COLUMNS = [
  'createdAt',
  'key',
  'action',
  'status',
  'actorId',
  'actorTag',
  'guildId',
  'channelId',
  'version',
  'oldValue',
  'newValue',
  'reason',
  'error',
] as const;

/** One CSV cell: quoted when needed, and never starting like a spreadsheet formula. */
function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let s =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(r: ConfigAuditDoc): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    createdAt: r.createdAt,
    key: r.key,
    action: r.action,
    status: r.status,
    actorId: r.actor.id,
    actorTag: r.actor.tag,
    guildId: r.guildId,
    channelId: r.channelId,
    version: r.version,
    oldValue: r.oldValue,
    newValue: r.newValue,
    reason: r.reason,
    error: r.error,
  };
  return CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',');
}

/**
 * Writes the configuration report of `date`: a JSON snapshot of every current value (sensitive
 * ones masked) and the audit rows of the 24 hours before `slot`, as CSV files of at most
 * MAX_BATCH_SIZE rows each. Runs at most once per date (export_logs); a failed date can run again.
 */
export async function runDailyExport(
  deps: ExportDeps,
  slot: Date,
  date = localDate(slot, String(deps.config.get('SCHEDULE_TIMEZONE'))),
): Promise<ExportResult> {
  const dir = path.resolve(deps.exportDir, date);
  const logs = exportLogs(deps.conn);
  if (!(await claim(logs, date, deps.instanceId))) {
    const existing = await logs.findById(date).lean<ExportLogDoc>().exec();
    const reason = `already ${existing?.status ?? 'done'} for ${date}${existing?.finishedAt ? ` at ${existing.finishedAt.toISOString()}` : ''}`;
    logger.info(`Daily export skipped: ${reason}`);
    return { date, status: 'skipped', dir, files: [], auditRows: 0, reason };
  }
  try {
    const result = await writeExport(deps, slot, date, dir);
    await logs.updateOne(
      { _id: date },
      {
        $set: {
          status: 'completed',
          finishedAt: new Date(),
          files: result.files,
          auditRows: result.auditRows,
        },
      },
    );
    // The files are the export; a failed post is worth a warning, not a failed (and re-run) export.
    await announce(deps, result).catch((err: unknown) =>
      logger.warn(`Could not post the export of ${date}`, errorDetail(err)),
    );
    return result;
  } catch (err) {
    await logs
      .updateOne(
        { _id: date },
        {
          $set: {
            status: 'failed',
            finishedAt: new Date(),
            error: err instanceof Error ? err.message : String(err),
          },
        },
      )
      .catch(() => undefined);
    throw err;
  }
}

/** Records that `date` is being exported; false when it is running or done already. */
async function claim(logs: Model<ExportLogDoc>, date: string, instance: string): Promise<boolean> {
  const doc = { _id: date, status: 'running' as const, instance, startedAt: new Date() };
  try {
    await logs.collection.insertOne(doc as never);
    return true;
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
  }
  const retried = await logs.collection.updateOne({ _id: date as never, status: 'failed' }, { $set: doc });
  return retried.modifiedCount === 1;
}

async function writeExport(deps: ExportDeps, slot: Date, date: string, dir: string): Promise<ExportResult> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const snapshot = {
    date,
    generatedAt: new Date().toISOString(),
    instance: deps.instanceId,
    values: Object.fromEntries(
      deps.config.list().map((e) => [
        e.key,
        {
          value: e.sensitive ? e.display : e.value,
          version: e.version,
          updatedAt: e.updatedAt,
          updatedBy: e.updatedBy?.tag,
        },
      ]),
    ),
  };
  await writeFile(path.join(dir, 'config-snapshot.json'), `${JSON.stringify(snapshot, null, 2)}\n`);
  files.push('config-snapshot.json');

  const batchSize = Number(deps.config.get('MAX_BATCH_SIZE'));
  const since = new Date(slot.getTime() - 24 * 3600_000);
  let auditRows = 0;
  for await (const batch of deps.config.exportAudit(since, slot, batchSize)) {
    const name = `audit-${String(files.length).padStart(3, '0')}.csv`;
    await writeFile(path.join(dir, name), `${CSV_COLUMNS.join(',')}\n${batch.map(csvRow).join('\n')}\n`);
    files.push(name);
    auditRows += batch.length;
  }
  logger.info(`Daily export for ${date}: ${files.length} files, ${auditRows} audit rows in ${dir}`);
  return { date, status: 'completed', dir, files, auditRows };
}

async function announce(deps: ExportDeps, result: ExportResult): Promise<void> {
  if (!deps.notifier || !deps.exportChannelId) return;
  const attachments: Attachment[] = await Promise.all(
    result.files.map(async (name) => ({ name, data: await readFile(path.join(result.dir, name)) })),
  );
  await deps.notifier.post(
    deps.exportChannelId,
    `📦 Daily configuration export for ${result.date}: ${result.auditRows} audit rows in ${result.files.length - 1} CSV file(s), plus the configuration snapshot.`,
    attachments,
  );
}

/** The daily export as a scheduled job, at DAILY_EXPORT_TIME in SCHEDULE_TIMEZONE. */
export function dailyExportJob(deps: ExportDeps): JobDefinition {
  return {
    name: 'daily-export',
    description: 'Writes the configuration snapshot and the last 24 hours of audit log to EXPORT_DIR',
    scheduleKeys: ['DAILY_EXPORT_TIME'],
    cron: (config) => {
      const [hh, mm] = String(config.get('DAILY_EXPORT_TIME')).split(':');
      return `${Number(mm)} ${Number(hh)} * * *`;
    },
    run: async ({ slot }) => {
      const r = await runDailyExport(deps, slot);
      return r.status === 'skipped'
        ? `skipped: ${r.reason}`
        : `${r.files.length} files, ${r.auditRows} audit rows`;
    },
  };
}

/** When `npm run export -- --date D` runs: D at DAILY_EXPORT_TIME in SCHEDULE_TIMEZONE. */
export function slotOfDate(config: ConfigService, date: string): Date {
  return zonedInstant(date, String(config.get('DAILY_EXPORT_TIME')), String(config.get('SCHEDULE_TIMEZONE')));
}
