import type { ExportLog, ExportRecord, ExportWindow } from '../storage/export-log.js';

/**
 * Why an export cannot hold any row: everything up to its run time is in another export. A
 * user-facing refusal, not a failure.
 */
export class CoveredError extends Error {
  constructor(
    readonly date: string,
    readonly by: ExportRecord,
  ) {
    super(
      `Nothing to export for ${date}: the audit rows up to its export time are in the export of ${by.date} already (it covers ${by.windowStart?.toISOString()} to ${by.windowEnd?.toISOString()}).`,
    );
    this.name = 'CoveredError';
  }
}

/**
 * The span of audit rows the export of `date` (run time `slot`) holds: from where the export
 * before it ended (or from the first audit row, or `slot` when there is none) to `slot`, cut
 * short where a later export already starts. Throws CoveredError when nothing is left. Chosen
 * under the export chain, so consecutive exports tile the audit log with no gap and no overlap.
 */
export async function windowFor(
  log: ExportLog,
  date: string,
  slot: Date,
  firstAuditAt: Date | undefined,
): Promise<ExportWindow> {
  const { before, after } = await log.around(slot);
  const start = before?.windowEnd ?? (firstAuditAt && firstAuditAt < slot ? firstAuditAt : slot);
  const next = after?.windowStart;
  if (!after || !next || next >= slot) return { start, end: slot };
  if (next <= start) throw new CoveredError(date, after);
  return { start, end: next };
}
