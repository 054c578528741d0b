/**
 * Applies an export file (from /config export or npm run config:export):
 *
 *   npm run -s config:import -- FILE [--dry-run] [--yes] [--reason TEXT]
 *
 * Prints what would change (unchanged, changed, invalid, unknown key), one line each; invalid
 * entries and unknown keys also go to stderr, one plain line per problem. --dry-run stops there;
 * otherwise it asks before applying (--yes: without asking). Exits 0 when every entry is fine
 * (and applied), 1 when some entry was refused or failed or the change was not confirmed, 2 for a
 * wrong request or a file that cannot be read (nothing changed).
 */
import { stat, readFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { runEntryPoint } from '../src/app/cli.js';
import { MAX_FILE_BYTES } from '../src/transfer/export-file.js';
import { parseExportFile } from '../src/transfer/export-parse.js';
import {
  applyImport,
  planImport,
  planLines,
  resultLine,
  type ImportPlan,
} from '../src/transfer/import-plan.js';
import { UserError } from '../src/base/errors.js';

const USAGE = 'usage: npm run -s config:import -- FILE [--dry-run] [--yes] [--reason TEXT]';

interface Args {
  file: string;
  dryRun: boolean;
  yes: boolean;
  reason?: string;
}

function parse(): Args | string {
  try {
    const { values, positionals } = parseArgs({
      options: {
        'dry-run': { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        reason: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) return USAGE;
    if (positionals.length !== 1) return `Give one export file to import.\n${USAGE}`;
    return {
      file: positionals[0] ?? '',
      dryRun: values['dry-run'],
      yes: values.yes,
      ...(values.reason !== undefined ? { reason: values.reason } : {}),
    };
  } catch (err) {
    return `${(err as Error).message}\n${USAGE}`;
  }
}

/** The file's bytes, refusing one over 1 MB before reading it (parseExportFile checks again). */
async function readExport(file: string): Promise<Buffer> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new UserError('INVALID_VALUE', `Cannot read ${file}: no such file.`);
  }
  if (size > MAX_FILE_BYTES)
    throw new UserError(
      'TOO_LONG',
      `${file} is ${size} bytes; an import reads at most ${MAX_FILE_BYTES} bytes (1 MB). Nothing was changed.`,
    );
  return readFile(file);
}

function printPlan(plan: ImportPlan): void {
  const l = planLines(plan);
  const section = (title: string, lines: string[]) => {
    if (lines.length)
      process.stdout.write(`${title} (${lines.length}):\n${lines.map((x) => `  ${x}\n`).join('')}`);
  };
  section('Changes', l.changed);
  section('Unchanged', l.unchanged);
  section('Left out of the file', l.omitted);
  section('Invalid (not imported)', l.invalid);
  section('Unknown keys (not imported)', l.unknown);
  for (const line of [...l.invalid, ...l.unknown]) process.stderr.write(`${line}\n`);
}

async function confirmed(count: number): Promise<boolean> {
  process.stdout.write(`Apply ${count} change${count === 1 ? '' : 's'}? [y/N] `);
  const rl = createInterface({ input: process.stdin });
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

runEntryPoint(async (e) => {
  const args = parse();
  if (typeof args === 'string') {
    process.stderr.write(`${args}\n`);
    return args === USAGE ? 0 : 2;
  }
  let file;
  try {
    file = parseExportFile(await readExport(args.file));
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  // Loaded once the request and the file hold: a wrong one is answered at once.
  const { startRuntime } = await import('../src/app/runtime.js');
  const runtime = await startRuntime(e, { jobs: false });
  try {
    if (runtime.config.stats().startedFrom !== 'database') {
      process.stderr.write(
        'The database cannot be reached: an import writes versions to it. Start the database or fix MONGODB_URI, then try again.\n',
      );
      return 1;
    }
    const plan = await planImport(runtime.config, file);
    printPlan(plan);
    const problems = plan.items.some((i) => i.status === 'invalid' || i.status === 'unknown');
    if (args.dryRun || !plan.changes.length) {
      process.stdout.write(`Nothing was changed${args.dryRun ? ' (dry run)' : ': nothing to change'}.\n`);
      return problems ? 1 : 0;
    }
    if (!args.yes && !(await confirmed(plan.changes.length))) {
      process.stdout.write('\nNothing was changed (not confirmed; add --yes to apply without asking).\n');
      return 1;
    }
    const actor = { id: 'cli', tag: `${userInfo().username}@${hostname()}` };
    const reason =
      args.reason ?? `import of ${path.basename(args.file).slice(0, 80)} (exported ${plan.exportedAt})`;
    const results = await applyImport(runtime.config, plan.changes, actor, reason);
    for (const r of results)
      (r.status === 'failed' ? process.stderr : process.stdout).write(`${resultLine(r)}\n`);
    const imported = results.filter((r) => r.status === 'imported').length;
    process.stdout.write(`Imported ${imported} of ${results.length} changes.\n`);
    return problems || results.some((r) => r.status === 'failed') ? 1 : 0;
  } finally {
    await runtime.stop();
  }
});
