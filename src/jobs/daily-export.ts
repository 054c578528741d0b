import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DateTime } from 'luxon';
import { SYSTEM_ACTOR, type Actor } from '../storage/config-models.js';
import type { ConfigService } from '../config/service.js';
import type { Lease } from '../storage/lease.js';
import type { Attachment, Notifier } from './notifier.js';
import { errorDetail, logger } from '../base/logger.js';
import type { JobDefinition } from './types.js';
import { checkpointLine } from '../audit/checkpoints.js';
import { writeExportFolder } from './export-files.js';
import type { ExportFields, ExportLog, ExportRecord, ExportWindow } from '../storage/export-log.js';
import { CoveredError, windowFor } from './export-window.js';
import { postSummary, type ExportSummary } from './export-webhook.js';
import { localDate, zonedInstant } from './time.js';

export interface ExportDeps {
  config: ConfigService;
  log: ExportLog;
  /** Files go to `${exportDir}/YYYY-MM-DD/`. */
  exportDir: string;
  instanceId: string;
  notifier?: Notifier;
  exportChannelId?: string;
  /**
   * How long a database write may take (DB_TIMEOUT_MS): an export waits this long past its run
   * time, so that rows stamped just before it, still on their way, are in it and not lost between
   * two exports.
   */
  settleMs: number;
  /** How long an export waits for another one to finish before giving up. */
  chainWaitMs: number;
}

export interface ExportRequest {
  date: string;
  /** The date's export time: the end of its span of audit rows and the time of its snapshot. */
  slot: Date;
  trigger: 'schedule' | 'manual';
  /** Export a date that was exported already, again (same span of rows, fresh files). */
  force?: boolean;
  /** Who asked (manual exports), for the audit row. */
  actor?: Actor;
}

export type ExportResult =
  | {
      status: 'completed';
      date: string;
      dir: string;
      files: string[];
      auditRows: number;
      window: ExportWindow;
      webhook?: string;
      tookOverFrom?: string;
    }
  | { status: 'skipped'; date: string; reason: string };

/** A manual export the user asked for wrongly: the message says why and what to do. */
export class ExportRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportRequestError';
  }
}

/**
 * Exports `date`: the snapshot of every value as it was at the date's export time (sensitive ones
 * masked) and the audit rows from where the previous export ended to that time, as CSV files of
 * at most MAX_BATCH_SIZE rows, written to a temporary folder and moved into place when complete.
 * Each date is exported once (`force` exports it again, with the same span); a date whose holder
 * died is taken over.
 */
export async function runDailyExport(deps: ExportDeps, req: ExportRequest): Promise<ExportResult> {
  // By the database's clock, which every process shares: a process whose own clock runs ahead
  // must not export a date before its time, leaving out the rows the others stamp until then.
  // A scheduled run waits for it; a manual one is refused rather than kept waiting.
  const now = (await deps.log.now()).getTime();
  const early = req.slot.getTime() - now;
  if (req.trigger === 'manual' && early > deps.settleMs) {
    const ahead = Math.round((Date.now() - now) / 1000);
    return skipped(
      req.date,
      `${req.date} cannot be exported yet: its export time is ${Math.ceil(early / 1000)} s away by the database's clock${ahead > 0 ? ` (this machine's clock is ${ahead} s ahead of it)` : ''}`,
    );
  }
  const settle = early + deps.settleMs;
  if (settle > 0) await sleep(settle);
  await deps.log.ensureIndexes();
  const chain = await takeChain(deps, req.date);
  if (!chain) {
    return skipped(
      req.date,
      `another export has been running for longer than ${Math.round(deps.chainWaitMs / 1000)} s; try again when it is done`,
    );
  }
  try {
    const holder = deps.instanceId;
    const fields: ExportFields = {
      date: req.date,
      slot: req.slot,
      trigger: req.trigger,
      ...(req.force ? { forced: true } : {}),
    };
    const claim = await deps.log.claimDate(req.date, holder, fields, req.force ?? false);
    if (claim.kind === 'held') {
      return skipped(
        req.date,
        `${req.date} is being exported by ${claim.current.holder} (last heartbeat ${claim.current.heartbeatAt.toISOString()})`,
      );
    }
    if (claim.kind === 'completed') {
      const c = claim.current;
      return skipped(
        req.date,
        `${req.date} was exported already${c.finishedAt ? ` at ${c.finishedAt.toISOString()}` : ''}${c.auditRows !== undefined ? ` (${c.auditRows} audit rows)` : ''}; add --force to export it again`,
      );
    }
    return await exportUnderLease(deps, req, claim.lease, claim.tookOver);
  } finally {
    await chain
      .finish('completed')
      .catch((err: unknown) => logger.warn('Could not release the export chain', errorDetail(err)));
  }
}

/** The export chain: one export at a time chooses its span of rows. Waits for a live holder. */
async function takeChain(deps: ExportDeps, date: string): Promise<Lease<{ purpose: string }> | undefined> {
  const deadline = Date.now() + deps.chainWaitMs;
  let announced = false;
  for (;;) {
    const claim = await deps.log.claimChain(deps.instanceId);
    if (claim.kind === 'acquired') return claim.lease;
    if (Date.now() >= deadline) return undefined;
    if (!announced) logger.info(`Export of ${date} waits for the export run by ${claim.current.holder}`);
    announced = true;
    await sleep(Math.min(1000, Math.max(50, deadline - Date.now())));
  }
}

async function exportUnderLease(
  deps: ExportDeps,
  req: ExportRequest,
  lease: Lease<ExportFields>,
  tookOver: ExportRecord | undefined,
): Promise<ExportResult> {
  const { config } = deps;
  try {
    const window = await windowOf(deps, req);
    await lease.update({ windowStart: window.start, windowEnd: window.end });
    const values = await config.valuesAt(req.slot);
    const snapshot = {
      date: req.date,
      exportTime: req.slot.toISOString(),
      window: { from: window.start.toISOString(), to: window.end.toISOString() },
      generatedAt: new Date().toISOString(),
      instance: deps.instanceId,
      values: Object.fromEntries(
        values.map((e) => [
          e.key,
          { value: e.value, version: e.version, updatedAt: e.updatedAt, updatedBy: e.updatedBy?.tag },
        ]),
      ),
    };
    const batchSize = Number(config.get('MAX_BATCH_SIZE'));
    const written = await writeExportFolder(deps.exportDir, req.date, deps.instanceId, {
      snapshot,
      batches: config.audit.batches(window.start, window.end, batchSize),
      checkpoints: async (from, to) => {
        // Signed now if the newest checkpoint is older than the export's last row.
        await config.trail.checkpoint();
        return (await config.trail.covering(from, to)).filter((c) => c.signature).map(checkpointLine);
      },
    });
    const webhook = await notifyWebhook(deps, req, window, written);
    await lease.finish('completed', {
      files: written.files,
      auditRows: written.auditRows,
      ...(webhook ? { webhook } : {}),
    });
    const result: ExportResult = {
      status: 'completed',
      date: req.date,
      ...written,
      window,
      ...(webhook ? { webhook } : {}),
      ...(tookOver ? { tookOverFrom: tookOver.holder } : {}),
    };
    logger.info(
      `Daily export for ${req.date}: ${written.files.length} files, ${written.auditRows} audit rows (${window.start.toISOString()} to ${window.end.toISOString()}) in ${written.dir}`,
    );
    await auditExport(deps, req, result);
    await announce(deps, result).catch((err: unknown) =>
      logger.warn(`Could not post the export of ${req.date}`, errorDetail(err)),
    );
    return result;
  } catch (err) {
    await lease
      .finish('failed', { error: err instanceof Error ? err.message : String(err) })
      .catch(() => undefined);
    if (err instanceof CoveredError) return skipped(req.date, err.message);
    throw err;
  }
}

/** A re-run keeps the span it had, so the exports around it still tile the audit log. */
async function windowOf(deps: ExportDeps, req: ExportRequest): Promise<ExportWindow> {
  if (req.force) {
    const previous = await deps.log.completedWindow(req.date);
    if (previous) return previous;
  }
  return windowFor(deps.log, req.date, req.slot, await deps.config.audit.firstAt());
}

async function notifyWebhook(
  deps: ExportDeps,
  req: ExportRequest,
  window: ExportWindow,
  written: { dir: string; files: string[]; auditRows: number },
): Promise<string | undefined> {
  const url = deps.config.get('EXPORT_WEBHOOK_URL');
  if (typeof url !== 'string' || !url) return undefined;
  const summary: ExportSummary = {
    event: 'daily-export.completed',
    date: req.date,
    window: { from: window.start.toISOString(), to: window.end.toISOString() },
    auditRows: written.auditRows,
    files: written.files,
    directory: written.dir,
    forced: req.force ?? false,
    generatedAt: new Date().toISOString(),
    instance: deps.instanceId,
  };
  const outcome = await postSummary(url, summary, 10_000);
  // The files are the export; a webhook that fails is worth a warning, not a failed export.
  if (outcome.startsWith('delivered')) logger.info(`Export summary of ${req.date} ${outcome}`);
  else logger.warn(`Export summary of ${req.date} ${outcome}`);
  return outcome;
}

/** Manual and forced exports are audited (scheduled ones are in the job runs). */
async function auditExport(
  deps: ExportDeps,
  req: ExportRequest,
  result: ExportResult & { status: 'completed' },
): Promise<void> {
  if (req.trigger === 'schedule' && !req.force) return;
  await deps.config.audit
    .record({
      key: '*',
      action: 'export',
      status: 'success',
      actor: req.actor ?? SYSTEM_ACTOR,
      reason: `${req.force ? 'forced re-run of the export' : 'manual export'} of ${req.date}: ${result.auditRows} audit rows in ${result.files.length} files`,
      newValue: {
        date: req.date,
        from: result.window.start.toISOString(),
        to: result.window.end.toISOString(),
      },
    })
    .catch((err: unknown) => logger.warn(`Could not audit the export of ${req.date}`, errorDetail(err)));
}

async function announce(deps: ExportDeps, result: ExportResult & { status: 'completed' }): Promise<void> {
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

function skipped(date: string, reason: string): ExportResult {
  logger.info(`Daily export skipped: ${reason}`);
  return { status: 'skipped', date, reason };
}

/** The daily export as a scheduled job, at DAILY_EXPORT_TIME in SCHEDULE_TIMEZONE. */
export function dailyExportJob(deps: ExportDeps): JobDefinition {
  return {
    name: 'daily-export',
    description:
      'Writes the configuration snapshot and the audit log since the previous export to EXPORT_DIR',
    scheduleKeys: ['DAILY_EXPORT_TIME'],
    cron: (config) => {
      const [hh, mm] = String(config.get('DAILY_EXPORT_TIME')).split(':');
      return `${Number(mm)} ${Number(hh)} * * *`;
    },
    run: async ({ slot }) => {
      const date = localDate(slot, String(deps.config.get('SCHEDULE_TIMEZONE')));
      const r = await runDailyExport(deps, { date, slot, trigger: 'schedule' });
      return r.status === 'skipped'
        ? `skipped: ${r.reason}`
        : `${r.files.length} files, ${r.auditRows} audit rows`;
    },
  };
}

/** When the export of `date` runs: at DAILY_EXPORT_TIME in SCHEDULE_TIMEZONE. */
export function slotOfDate(config: ConfigService, date: string): Date {
  return zonedInstant(date, String(config.get('DAILY_EXPORT_TIME')), String(config.get('SCHEDULE_TIMEZONE')));
}

/** Refuses (ExportRequestError) a --date that is not YYYY-MM-DD or not a day of the calendar. */
export function checkCalendarDate(requested: string): void {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(requested))
    throw new ExportRequestError(`--date takes a date like 2026-11-22; got "${requested}"`);
  if (!DateTime.fromISO(requested, { zone: 'UTC' }).isValid)
    throw new ExportRequestError(`--date ${requested} is not a calendar date: ${whyNotADate(requested)}`);
}

/** Why a YYYY-MM-DD text is no date, in a few plain words (`February 2026 has 28 days`). */
function whyNotADate(text: string): string {
  const [year = 0, month = 0, day = 0] = text.split('-').map(Number);
  if (month < 1 || month > 12) return `there is no month ${month}`;
  const first = DateTime.fromObject({ year, month, day: 1 }, { zone: 'UTC' });
  if (day < 1 || day > (first.daysInMonth ?? 31))
    return `${first.toFormat('LLLL yyyy', { locale: 'en' })} has ${first.daysInMonth} days`;
  return 'it does not exist';
}

/**
 * The date a manual export asks for, checked: a real calendar date whose export time has passed
 * (exporting it earlier would mark it done while rows of its day are still to come). Without a
 * date: the latest date whose export time has passed. Throws ExportRequestError saying why.
 */
export function manualExportDate(
  config: ConfigService,
  requested: string | undefined,
  now = new Date(),
): { date: string; slot: Date } {
  const zone = String(config.get('SCHEDULE_TIMEZONE'));
  const time = String(config.get('DAILY_EXPORT_TIME'));
  if (requested === undefined) {
    const today = localDate(now, zone);
    const slot = slotOfDate(config, today);
    if (slot <= now) return { date: today, slot };
    const yesterday = DateTime.fromISO(today, { zone }).minus({ days: 1 }).toISODate() ?? today;
    return { date: yesterday, slot: slotOfDate(config, yesterday) };
  }
  checkCalendarDate(requested);
  const slot = slotOfDate(config, requested);
  const today = localDate(now, zone);
  if (requested > today)
    throw new ExportRequestError(
      `--date ${requested} is in the future (today is ${today} in ${zone}); a date can be exported once its export time has passed`,
    );
  if (slot > now) {
    const minutes = Math.ceil((slot.getTime() - now.getTime()) / 60_000);
    throw new ExportRequestError(
      `--date ${requested} cannot be exported yet: its export time is ${time} ${zone}, in ${minutes} min; exporting it now would leave out the rows written until then`,
    );
  }
  return { date: requested, slot };
}
