import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { ConfigAuditDoc } from '../storage/config-models.js';

const CSV_COLUMNS = [
  'createdAt',
  'attemptedAt',
  'key',
  'scope',
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
  // The row's place in the audit log's hash chain, and its links (see audit-checkpoints.txt).
  'seq',
  'hash',
  'prevHash',
] as const;

function csvRecord(r: ConfigAuditDoc): Record<(typeof CSV_COLUMNS)[number], unknown> {
  return {
    createdAt: r.createdAt,
    attemptedAt: r.attemptedAt,
    key: r.key,
    // Rows written before scopes existed, and every global one, carry none.
    scope: r.scope ?? 'global',
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
    seq: r.seq,
    hash: r.hash,
    prevHash: r.prevHash,
  };
}

/**
 * Audit rows as CSV (csv-stringify: quoting of commas, quotes and line breaks), with cells that
 * a spreadsheet would run as a formula (`=`, `+`, `-`, `@`...) prefixed with a quote: reasons are
 * typed by users, and an export is opened by someone else.
 */
export function auditCsv(rows: readonly ConfigAuditDoc[]): string {
  return stringify(rows.map(csvRecord), {
    header: true,
    columns: [...CSV_COLUMNS],
    escape_formulas: true,
    cast: {
      date: (d) => d.toISOString(),
      boolean: (b) => String(b),
      object: (o) => JSON.stringify(o),
    },
  });
}

export interface ExportContent {
  snapshot: object;
  /** Audit rows, oldest first, one CSV file per batch. */
  batches: AsyncIterable<readonly ConfigAuditDoc[]>;
  /**
   * The audit log's checkpoints covering the chain's rows from..to (the export's first and last
   * place), as lines for audit-checkpoints.txt.
   */
  checkpoints?: (from: number, to: number) => Promise<string[]>;
}

export interface WrittenExport {
  dir: string;
  files: string[];
  auditRows: number;
}

/** A file system name for a holder id (host names and pids are safe, but be sure). */
const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/**
 * Writes a date's export into `.<date>.partial-<holder>` next to its final folder and moves it
 * into place only once complete, so a reader never sees a half-written export: a killed export
 * leaves only a partial folder, which the next holder of the date removes. A re-run (--force)
 * replaces the previous folder the same way.
 */
export async function writeExportFolder(
  exportDir: string,
  date: string,
  holder: string,
  content: ExportContent,
): Promise<WrittenExport> {
  const root = path.resolve(exportDir);
  await mkdir(root, { recursive: true });
  await removeLeftovers(root, date);
  const partial = path.join(root, `.${date}.partial-${safe(holder)}`);
  await mkdir(partial);
  try {
    const files = ['config-snapshot.json'];
    await writeFile(path.join(partial, files[0] ?? ''), `${JSON.stringify(content.snapshot, null, 2)}\n`);
    let auditRows = 0;
    let from = Infinity;
    let to = 0;
    for await (const batch of content.batches) {
      const name = `audit-${String(files.length).padStart(3, '0')}.csv`;
      await writeFile(path.join(partial, name), auditCsv(batch));
      files.push(name);
      auditRows += batch.length;
      for (const r of batch)
        if (r.seq !== undefined) {
          from = Math.min(from, r.seq);
          to = Math.max(to, r.seq);
        }
    }
    if (content.checkpoints && to > 0) {
      const lines = await content.checkpoints(from, to);
      const note = lines.length
        ? `# Checkpoints of the audit log covering rows ${from}-${to} of this export (npm run audit:verify -- --checkpoints FILE).`
        : `# No signed checkpoint covers rows ${from}-${to} yet: set AUDIT_SIGNING_KEY to have them signed.`;
      await writeFile(path.join(partial, 'audit-checkpoints.txt'), `${[note, ...lines].join('\n')}\n`);
      files.push('audit-checkpoints.txt');
    }
    const dir = path.join(root, date);
    await moveIntoPlace(partial, dir, root, date);
    return { dir, files, auditRows };
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
}

async function moveIntoPlace(partial: string, dir: string, root: string, date: string): Promise<void> {
  const replaced = path.join(root, `.${date}.replaced-${Date.now()}`);
  let hadPrevious = true;
  try {
    await rename(dir, replaced);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    hadPrevious = false;
  }
  await rename(partial, dir);
  if (hadPrevious) await rm(replaced, { recursive: true, force: true });
}

/** Partial folders of this date left by an export that died (only its current holder calls this). */
async function removeLeftovers(root: string, date: string): Promise<void> {
  for (const name of await readdir(root)) {
    if (name.startsWith(`.${date}.partial-`) || name.startsWith(`.${date}.replaced-`)) {
      await rm(path.join(root, name), { recursive: true, force: true });
    }
  }
}
