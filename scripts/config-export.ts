/**
 * Writes the configuration as an export file (the format of /config export):
 *
 *   npm run -s config:export -- [--scope global|env:<name>|guild:<id>] [--secrets] [--out FILE]
 *
 * To stdout, or to FILE. Sensitive values are left out; --secrets includes them encrypted with
 * the first key of CONFIG_ENCRYPTION_KEYS (never in clear). Audited. Exits 0 when written, 1 when
 * the export failed, 2 for a wrong request.
 */
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import writeFileAtomic from 'write-file-atomic';
import { runEntryPoint } from '../src/app/cli.js';
import { buildExport } from '../src/transfer/export-file.js';
import { UserError } from '../src/base/errors.js';

const USAGE =
  'usage: npm run -s config:export -- [--scope global|env:<name>|guild:<id>] [--secrets] [--out FILE]';

function parse(): { scope?: string; secrets: boolean; out?: string } | string {
  try {
    const { values } = parseArgs({
      options: {
        scope: { type: 'string' },
        secrets: { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) return USAGE;
    return {
      ...(values.scope !== undefined ? { scope: values.scope } : {}),
      secrets: values.secrets,
      ...(values.out !== undefined ? { out: values.out } : {}),
    };
  } catch (err) {
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
  const { startRuntime } = await import('../src/app/runtime.js');
  const runtime = await startRuntime(e, { jobs: false });
  const actor = { id: 'cli', tag: `${userInfo().username}@${hostname()}` };
  const row = { key: '*', action: 'export' as const, actor, ...(args.scope ? { scope: args.scope } : {}) };
  try {
    if (runtime.config.stats().startedFrom !== 'database') {
      process.stderr.write(
        'The database cannot be reached: an export reads the stored values from it. Start the database or fix MONGODB_URI, then try again.\n',
      );
      return 1;
    }
    let built;
    try {
      built = await buildExport(runtime.config, { scope: args.scope ?? null, secrets: args.secrets });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      await runtime.config.audit.record({ ...row, status: 'failed', error: err.message });
      process.stderr.write(`${err.message}\n`);
      return err.code === 'UNAVAILABLE' ? 1 : 2;
    }
    // Sealed secrets are still secrets at rest: only the owner reads the file.
    if (args.out) await writeFileAtomic(args.out, built.text, { mode: args.secrets ? 0o600 : 0o644 });
    else process.stdout.write(built.text);
    const what = `${built.values} values${built.omitted ? `, ${built.omitted} sensitive left out` : ''}`;
    await runtime.config.audit.record({
      ...row,
      status: 'success',
      reason: `npm run config:export of ${args.scope ?? 'every scope'}: ${what}${args.secrets ? ', sensitive values encrypted' : ''}`,
    });
    process.stderr.write(
      `Exported ${what}${args.secrets && built.file.encryptionKeyId ? ` (sensitive ones encrypted with key ${built.file.encryptionKeyId})` : ''}${args.out ? ` to ${args.out}` : ''}.\n`,
    );
    return 0;
  } finally {
    await runtime.stop();
  }
});
