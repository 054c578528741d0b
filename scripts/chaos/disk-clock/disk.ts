/**
 * DATA_DIR full, then read-only, under one API process: writes and reads through the API, then a
 * database outage so audit rows must be queued there. Expected: no crash, a plain log line naming
 * the problem and the fix, writes still committed, the last-known-good copy left whole as it was,
 * queued audit rows kept in memory and written when the database is back; and a process started
 * on a read-only DATA_DIR starts, or refuses in one plain line naming DATA_DIR.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'mongoose';
import { connect } from '../../../src/storage/connection.js';
import { freePort } from '../../../src/storage/embedded.js';
import { TokenStore } from '../../../src/tokens/tokens.js';
import type { PrivateDb } from '../lib/ferret.js';
import type { ChaosContext, FaultResult } from '../types.js';
import { audited, chainOf, newLedger, notMeasured, survival, type Ledger } from './accounting.js';
import {
  apiReady,
  Cleanup,
  isRoot,
  mountTmpfs,
  sh,
  spawnTs,
  stackLines,
  until,
  type Child,
} from './common.js';
import { apiEnv, fill, Load } from './disk-load.js';

/** The part's own FerretDB (its URI names no database: each part appends its own). */
export interface SharedDb {
  uri: string;
  server: PrivateDb;
}

export const FULL = 'DATA_DIR full (64 KiB tmpfs) + database outage';
export const READ_ONLY = 'DATA_DIR read-only + database outage';

interface Plan {
  fault: string;
  /** Makes DATA_DIR unusable; a reason when it cannot. */
  breakDir(): Promise<string | undefined>;
  mendDir(): Promise<void>;
  /** Log words that name the problem (ENOSPC, read-only...). */
  problem: RegExp;
  /** First value its writes write (the rows' values never meet). */
  base: number;
  /** More checks while DATA_DIR is broken. */
  extra?: (ledger: Ledger, notes: string[]) => Promise<void>;
}

interface Setup {
  chaos: ChaosContext;
  db: SharedDb;
  dbName: string;
  dir: string;
  conn: Connection;
  token: string;
  port: number;
  api: Child;
  cleanup: Cleanup;
}

const lastVersion = (l: Ledger) => l.writes.findLast((w) => w.version !== undefined)?.version ?? -1;
const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

/** One DATA_DIR fault on the running API: break, load, outage, recovery, mend, accounting. */
async function fault(s: Setup, plan: Plan): Promise<FaultResult> {
  const notes: string[] = [];
  const ledger = newLedger();
  const load = new Load(s.port, s.token, `${s.dbName}-${plan.base}`, ledger, plan.base);
  const n = s.chaos.quick ? 4 : 20;
  const lkg = path.join(s.dir, `last-known-good.${s.dbName}.json`);
  const holdsLast = () => read(lkg).includes(`"version":${lastVersion(ledger)}`);
  await load.write();
  if (!(await until(holdsLast, 5000))) notes.push('the last-known-good copy did not follow the first write');
  const before = read(lkg);
  const t0 = Date.now();
  const step = (what: string) => s.chaos.log(`${plan.fault}: ${what} at ${Date.now() - t0} ms`);

  const cannot = await plan.breakDir();
  if (cannot) return notMeasured(plan.fault, cannot);
  const errFrom = s.api.errLines.length;
  await load.round(n);
  await sleep(400); // the copy's writes wait 200 ms for more changes
  const keptAfterWrites = read(lkg) === before;

  // The database goes away: attempts are refused, and their audit rows must wait in memory.
  step('outage');
  await s.db.server.kill();
  await load.round(n, true);
  await s.db.server.restart();
  const back = Date.now();
  const recovered = await until(() => load.write(), 20_000);
  const recoverMs = recovered ? Date.now() - back : null;
  step('database back');
  const answered = ledger.writes.filter((w) => w.status > 0).length;
  if (!(await until(async () => (await audited(s.conn, ledger.writes)) >= answered, 15_000)))
    notes.push('queued audit rows were not all written within 15 s of the database returning');
  await sleep(400);
  const keptAfterOutage = read(lkg) === before;
  await plan.extra?.(ledger, notes);

  // Mended: the copy follows the next change again.
  await plan.mendDir();
  const mended = Date.now();
  await load.write();
  notes.push(
    (await until(holdsLast, 5000))
      ? `last-known-good copy current again ${Date.now() - mended} ms after DATA_DIR was mended`
      : 'DEFECT: the last-known-good copy did not resume after DATA_DIR was mended',
  );
  notes.push(
    keptAfterWrites && keptAfterOutage
      ? 'last-known-good copy kept whole and unchanged while DATA_DIR was broken'
      : 'DEFECT: the last-known-good copy changed while DATA_DIR was broken',
  );
  // Paths of this run's temp dir say nothing to a reader of the table.
  const clean = (n: string) => n.replaceAll(s.dir, '$DATA_DIR').replaceAll(s.dbName, '<db>');
  checkLogs(s.api.errLines.slice(errFrom).map(clean), plan.problem, notes);
  for (const [i, n] of notes.entries()) notes[i] = clean(n);
  if (s.api.exited()) notes.push(`DEFECT: the API process exited (${await s.api.done})`);
  if (ledger.odd.length) notes.push(`unexpected answers: ${ledger.odd.join(' | ')}`);
  step('checked');
  return {
    fault: plan.fault,
    attempted: ledger.attempted,
    succeeded: ledger.succeeded,
    refused: ledger.refused,
    ...(await survival(s.conn, ledger.writes)),
    chainIntact: null,
    recoverMs,
    stackTraces: ledger.stackTraces + stackLines(s.api.errLines.slice(errFrom)),
    notes,
    ...(recovered ? {} : { failed: true }),
  };
}

/** The API's log while DATA_DIR was broken must name the problem and what to do, in plain lines. */
function checkLogs(lines: string[], problem: RegExp, notes: string[]): void {
  const named = lines.filter((l) => problem.test(l));
  const says = (l: string | undefined) => (l ? l.replace(/^\S+ \S+ /, '').slice(0, 220) : 'nothing');
  const fixes = (l: string | undefined) =>
    Boolean(l && /DATA_DIR/.test(l) && /free|writable|permission/i.test(l));
  for (const [what, re] of [
    ['the copy', /last-known-good/],
    ['queued audit rows', /audit/i],
  ] as const) {
    const line = named.find((l) => re.test(l));
    notes.push(
      `${fixes(line) ? '' : 'DEFECT (the line does not say what to fix): '}log for ${what}: ${says(line)}`,
    );
  }
}

/**
 * A process started on the read-only DATA_DIR (holding a copy) must start, and one whose DATA_DIR
 * cannot be created must refuse in one plain line naming DATA_DIR; no stack either way.
 */
async function startOnReadOnly(s: Setup, ledger: Ledger, notes: string[]): Promise<void> {
  const cases = [
    ['an existing read-only DATA_DIR', s.dir],
    ['a DATA_DIR to create under a read-only one', path.join(s.dir, 'sub')],
  ] as const;
  await Promise.all(
    cases.map(async ([what, dataDir]) => {
      const port = await freePort();
      const child = spawnTs('scripts/api.ts', apiEnv(s.db.uri, s.dbName, dataDir, port));
      s.cleanup.add(() => child.stop());
      const ready = await apiReady(child, port, 20_000);
      ledger.attempted++;
      const last = child.errLines.at(-1) ?? '';
      if (ready) {
        ledger.succeeded++;
        notes.push(`started on ${what}`);
      } else if (child.exited() && /DATA_DIR/.test(last) && child.errLines.length <= 3) {
        ledger.refused++;
        notes.push(`refused to start on ${what}: "${last}"`);
      } else
        notes.push(`DEFECT: on ${what}, neither started nor refused with a line naming DATA_DIR: "${last}"`);
      ledger.stackTraces += stackLines(child.errLines);
      await child.stop();
    }),
  );
}

/**
 * Both DATA_DIR faults, one after the other, on one API process whose DATA_DIR is a 64 KiB tmpfs
 * (root). Not root: the full disk is not measured, and read-only is mode 0555, which binds a
 * process that is not root.
 */
export async function diskRows(chaos: ChaosContext, db: SharedDb): Promise<FaultResult[]> {
  const dir = path.join(chaos.workDir, 'data-dir');
  mkdirSync(dir, { recursive: true });
  const cleanup = new Cleanup();
  const root = isRoot();
  try {
    const unmounted = await mountTmpfs(dir, '64k', cleanup);
    if (root && unmounted) return [FULL, READ_ONLY].map((f) => notMeasured(f, unmounted));
    const dbName = `chaos_disk_${randomBytes(3).toString('hex')}`;
    const conn = await connect({ uri: db.uri, dbName, timeoutMs: 3000 });
    cleanup.add(() => conn.close());
    const { token } = await new TokenStore(conn).create(
      { name: 'chaos-disk', access: 'write', actor: { id: 'chaos', tag: 'chaos' } },
      ['production'],
    );
    const port = await freePort();
    const api = spawnTs('scripts/api.ts', apiEnv(db.uri, dbName, dir, port));
    cleanup.add(() => api.stop());
    if (!(await apiReady(api, port)))
      return [FULL, READ_ONLY].map((f) =>
        notMeasured(f, `the API did not start: ${api.errLines.at(-1) ?? ''}`),
      );
    const s: Setup = { chaos, db, dbName, dir, conn, token, port, api, cleanup };
    const rows: FaultResult[] = [];
    if (unmounted) rows.push(notMeasured(FULL, unmounted));
    else
      rows.push(
        await fault(s, {
          fault: FULL,
          problem: /ENOSPC|no space|full/i,
          base: 101,
          breakDir: async () => (chaos.log(`DATA_DIR full: ${fill(dir)} bytes of filler`), undefined),
          mendDir: async () => rmSync(path.join(dir, 'filler'), { force: true }),
        }),
      );
    if (!root) cleanup.add(() => chmod(dir, 0o755));
    const ro = await fault(s, {
      fault: READ_ONLY,
      problem: /EROFS|EACCES|read-only|permission/i,
      base: 501,
      breakDir: async () => {
        if (!root) return chmod(dir, 0o555).then(() => undefined);
        const failed = await sh('mount', ['-o', 'remount,ro', dir]);
        return failed ? `remount read-only failed: ${failed}` : undefined;
      },
      mendDir: async () =>
        void (root ? await sh('mount', ['-o', 'remount,rw', dir]) : await chmod(dir, 0o755)),
      extra: (ledger, notes) => startOnReadOnly(s, ledger, notes),
    });
    ro.notes.unshift(root ? 'the tmpfs remounted read-only' : 'mode 0555 (not root)');
    rows.push(ro);
    await api.stop();
    const chainNotes: string[] = [];
    const intact = await chainOf(db.uri, dbName, chainNotes);
    for (const r of rows)
      if (!r.notes[0]?.startsWith('not measured'))
        Object.assign(r, { chainIntact: intact, notes: [...r.notes, ...chainNotes] });
    return rows;
  } finally {
    await cleanup.run();
  }
}
