/**
 * Checks that the audit log was not altered: every row's hash and link, gaps and rows written
 * around the chain, and every signed checkpoint (stored, and those kept outside the database).
 *
 *   npm run -s audit:verify -- [--from N] [--to N] [--checkpoints FILE]... [--public-key KEY]... [--json]
 *   npm run -s audit:verify -- --new-key
 *
 * Exit 0 when intact, 1 when something broke (each break named by row id and place), 2 when it
 * could not check (bad arguments, the database unreachable).
 *
 * --checkpoints FILE: lines `audit-checkpoint kind=... seq=... hash=... at=... key=... sig=...`
 * as posted to ALERT_CHANNEL_ID and written into exports (anything else in the file is ignored).
 * --public-key KEY: trust checkpoints signed by this key too (AUDIT_SIGNING_KEY's is trusted, and
 * AUDIT_TRUSTED_KEYS'); with no signing key set here, the verifier needs only public keys.
 * --new-key: prints a new AUDIT_SIGNING_KEY and its public half, and touches nothing.
 */
import { readFile } from 'node:fs/promises';
import { parseCheckpointLines } from '../src/audit/checkpoints.js';
import { reportLines } from '../src/audit/report-text.js';
import {
  KeyFormatError,
  newSigningKeyText,
  parsePublicKey,
  parseSigningKey,
  type TrustedKey,
} from '../src/audit/signing.js';
import { startRuntime } from '../src/app/runtime.js';
import type { CheckpointDoc } from '../src/storage/audit-checkpoints.js';
import { runEntryPoint } from '../src/app/cli.js';
import { ArgsError, readArgs } from './lib/args.js';

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  checkpoints: { type: 'string', multiple: true },
  'public-key': { type: 'string', multiple: true },
  json: { type: 'boolean' },
  'new-key': { type: 'boolean' },
} as const;

const place = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  if (!/^\d{1,12}$/.test(text) || Number(text) < 1)
    throw new ArgsError(`--${name} takes a row number (1 or more); got \`${text.slice(0, 30)}\``);
  return Number(text);
};

async function external(files: readonly string[]): Promise<CheckpointDoc[]> {
  const out: CheckpointDoc[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ArgsError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    const { checkpoints, problems } = parseCheckpointLines(text);
    if (problems.length) throw new ArgsError(`${file}: ${problems.join('; ')}`);
    if (!checkpoints.length) throw new ArgsError(`${file} holds no audit-checkpoint line`);
    out.push(...checkpoints);
  }
  return out;
}

runEntryPoint(async (e) => {
  let args;
  let trusted: TrustedKey[];
  let from: number | undefined;
  let to: number | undefined;
  try {
    args = readArgs({ args: process.argv.slice(2), options: OPTIONS, allowPositionals: false }).values;
    from = place('from', args.from);
    to = place('to', args.to);
    if (from !== undefined && to !== undefined && from > to)
      throw new ArgsError(`--from ${from} is after --to ${to}`);
    trusted = (args['public-key'] ?? []).map((k) => parsePublicKey(k));
  } catch (err) {
    if (!(err instanceof ArgsError || err instanceof KeyFormatError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (args['new-key']) {
    const key = newSigningKeyText();
    process.stdout.write(
      `AUDIT_SIGNING_KEY=${key}\n# public key (give it to whoever verifies; /config status shows it): ${parseSigningKey(key).publicText}\n`,
    );
    return 0;
  }
  let kept: CheckpointDoc[];
  try {
    kept = await external(args.checkpoints ?? []);
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  const runtime = await startRuntime(
    { ...e, AUDIT_TRUSTED_KEYS: [...e.AUDIT_TRUSTED_KEYS, ...trusted] },
    { jobs: false },
  );
  try {
    if (runtime.config.stats().startedFrom !== 'database') {
      process.stderr.write(
        'The database cannot be reached: the audit log is checked where it is stored. Start the database or fix MONGODB_URI, then try again.\n',
      );
      return 2;
    }
    await runtime.config.trail.begin();
    const report = await runtime.config.trail.verify({
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      external: kept,
    });
    process.stdout.write(
      args.json ? `${JSON.stringify(report, null, 2)}\n` : `${reportLines(report).join('\n')}\n`,
    );
    return report.intact ? 0 : 1;
  } finally {
    await runtime.stop();
  }
});
