/**
 * The fault suite: runs API and bot processes and load clients on loopback, injects faults
 * (scripts/chaos/*.ts), and prints what was attempted and what survived, one row per fault.
 * Bounded in operations and in time; stops by itself and ends every process it started, on
 * Ctrl-C too. Exits 0 when nothing was lost, duplicated, left unaudited or unrepaired, no stack
 * trace reached a user and the audit chain is intact; 1 otherwise.
 *
 *   npm run chaos [-- --quick] [-- --json] [-- --only database,kills] [-- --seconds 900]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { atExit } from '../src/app/cli.js';
import { setLogLevel } from '../src/base/logger.js';
import { ArgsError, readArgs } from './lib/args.js';
import { runScript } from './lib/run.js';
import { killAll } from './chaos/lib/procs.js';
import { ferretUnavailable } from './chaos/lib/ferret.js';
import { rowPassed, runSuite, SCENARIOS, table } from './chaos/suite.js';

const USAGE = `usage: npm run chaos [-- --quick] [-- --json] [-- --only ID[,ID]] [-- --seconds N]
  --quick    the short version: fewer operations, shorter faults (npm test runs a part of it)
  --json     one JSON object instead of the table
  --only     run these scenarios only: ${SCENARIOS.map((s) => s.id).join(', ')}
  --seconds  the bound of the whole run (default 900, with --quick 180)`;

function args(argv: string[]) {
  const { values } = readArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      only: { type: 'string' },
      seconds: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help' as const;
  const ids = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = ids?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
  if (unknown.length)
    throw new ArgsError(
      `No scenario ${unknown.join(', ')}; the scenarios are ${SCENARIOS.map((s) => s.id).join(', ')}.`,
    );
  const seconds = values.seconds === undefined ? (values.quick ? 180 : 900) : Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 30 || seconds > 7200)
    throw new ArgsError('--seconds takes a whole number of seconds from 30 to 7200.');
  return {
    quick: values.quick,
    json: values.json,
    seconds,
    scenarios: ids ? SCENARIOS.filter((s) => ids.includes(s.id)) : SCENARIOS,
  };
}

runScript(async () => {
  let a;
  try {
    a = args(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (a === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const missing = ferretUnavailable();
  if (missing) {
    process.stderr.write(`The fault suite starts database servers of its own, and there is ${missing}.\n`);
    return 2;
  }
  // The suite's own database reads and token writes log nothing an operator needs.
  setLogLevel('error');
  const workDir = mkdtempSync(path.join(tmpdir(), 'config-bot-chaos-'));
  // Every way out (the end, a failure, Ctrl-C) ends the processes and removes the scratch files.
  atExit(() => {
    killAll();
    rmSync(workDir, { recursive: true, force: true });
  });
  process.once('exit', killAll);
  const started = Date.now();
  const log = (line: string) =>
    process.stderr.write(
      `[chaos ${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${line}\n`,
    );
  const rows = await runSuite({ scenarios: a.scenarios, quick: a.quick, seconds: a.seconds, workDir, log });
  const ok = rows.every(rowPassed);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  if (a.json)
    process.stdout.write(`${JSON.stringify({ ok, quick: a.quick, seconds, results: rows }, null, 2)}\n`);
  else
    process.stdout.write(
      `${table(rows)}\n\n${ok ? 'Every fault passed' : 'Some faults FAILED'} (${a.quick ? 'quick run, ' : ''}${seconds} s).\n`,
    );
  return ok ? 0 : 1;
});
