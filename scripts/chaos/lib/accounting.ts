/**
 * What survived a fault, read from the database afterwards: acknowledged writes against the
 * stored versions (lost, duplicated), audit rows against versions, writes left half done,
 * change requests left applying, and the audit chain (scripts/audit-verify.ts).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '../../../src/storage/connection.js';
import { ENVIRONMENTS } from './cluster.js';
import type { Ack } from './load.js';
import { ROOT, spawnTs } from './procs.js';

export interface Accounting {
  /** Acknowledged writes whose version is absent or holds another value or attempt, and gaps in a slot's versions. */
  versionsLost: number;
  /** An attempt stored as two versions, a version number twice, a request change applied twice. */
  duplicated: number;
  /** Acknowledged writes, and other versions, with no success audit row. */
  auditMissing: number;
  /** Slots whose current value is behind their newest version, and requests still applying. */
  unrepaired: number;
  versions: number;
  notes: string[];
}

interface VersionDoc {
  key: string;
  version: number;
  value: unknown;
  reason?: string;
  request?: string;
  action?: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
/** The id of a committed version's success audit row (src/storage/audit-rows.ts). */
const committedId = (slot: string, version: number) => `${slot}@v${version}`;
const attemptOf = (reason: string | undefined) => /^chaos-load (\S+)$/.exec(reason ?? '')?.[1];

/** Reads the scenario's database and compares it with what clients were told. */
export async function account(uri: string, dbName: string, acks: readonly Ack[]): Promise<Accounting> {
  const conn = await connect({ uri, dbName, timeoutMs: 10_000 });
  try {
    const db = conn.db;
    if (!db) throw new Error('no database handle');
    const versions = (await db
      .collection('config_versions')
      .find({}, { projection: { _id: 0, key: 1, version: 1, value: 1, reason: 1, request: 1, action: 1 } })
      .toArray()) as unknown as VersionDoc[];
    const audits = await db
      .collection('config_audit_logs')
      .find(
        { status: 'success', version: { $exists: true } },
        { projection: { key: 1, scope: 1, version: 1 } },
      )
      .toArray();
    const current = await db
      .collection('system_configs')
      .find({}, { projection: { version: 1, pending: 1 } })
      .toArray();
    const requests = await db
      .collection('config_change_requests')
      .find({}, { projection: { status: 1 } })
      .toArray();
    const closures = await db
      .collection('config_change_request_claims')
      .find({ _id: { $regex: '^close:' } } as never)
      .toArray();
    return tallyUp(versions, audits, current, requests, closures, acks);
  } finally {
    await conn.close();
  }
}

type Row = Record<string, unknown>;

function tallyUp(
  versions: VersionDoc[],
  audits: Row[],
  current: Row[],
  requests: Row[],
  closures: Row[],
  acks: readonly Ack[],
): Accounting {
  const notes: string[] = [];
  const out: Accounting = {
    versionsLost: 0,
    duplicated: 0,
    auditMissing: 0,
    unrepaired: 0,
    versions: versions.length,
    notes,
  };
  const byId = new Map<string, VersionDoc[]>();
  for (const v of versions)
    byId.set(`${v.key}@${v.version}`, [...(byId.get(`${v.key}@${v.version}`) ?? []), v]);

  for (const a of acks) {
    const v = byId.get(`${a.slot}@${a.version}`)?.[0];
    if (v && same(v.value, a.value) && attemptOf(v.reason) === a.attempt) continue;
    out.versionsLost++;
    if (out.versionsLost <= 3)
      notes.push(
        `lost: ${a.slot} v${a.version} acknowledged with ${JSON.stringify(a.value)} (${a.attempt}); stored: ${v ? `${JSON.stringify(v.value)} (${v.reason ?? 'no reason'})` : 'nothing'}`,
      );
  }

  // Each slot's versions are 1..n: a gap is a version lost.
  const newest = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const v of versions) {
    newest.set(v.key, Math.max(newest.get(v.key) ?? 0, v.version));
    counts.set(v.key, (counts.get(v.key) ?? 0) + 1);
  }
  for (const [slot, n] of newest) {
    const held = new Set(versions.filter((v) => v.key === slot).map((v) => v.version)).size;
    if (held < n) {
      out.versionsLost += n - held;
      notes.push(`lost: ${slot} has ${held} distinct versions up to v${n}`);
    }
  }

  const dup = (label: string, keyOf: (v: VersionDoc) => string | undefined) => {
    const seen = new Map<string, number>();
    for (const v of versions) {
      const k = keyOf(v);
      if (k !== undefined) seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    for (const [k, n] of seen)
      if (n > 1) {
        out.duplicated += n - 1;
        if (out.duplicated <= 3) notes.push(`duplicated: ${label} ${k} stored ${n} times`);
      }
  };
  dup('version', (v) => `${v.key}@${v.version}`);
  dup('attempt', (v) => attemptOf(v.reason));
  dup('request change', (v) => (v.request ? `${v.request} ${v.key}` : undefined));
  dup('import change', (v) =>
    v.action === 'import' && !v.request ? `${v.key} (${v.reason ?? ''})` : undefined,
  );

  const audited = new Set<string>();
  for (const r of audits) {
    audited.add(String(r._id));
    const slot = r.scope && r.scope !== 'global' ? `${String(r.key)}|${String(r.scope)}` : String(r.key);
    audited.add(committedId(slot, Number(r.version)));
  }
  const ackIds = new Set(acks.map((a) => `${a.slot}@${a.version}`));
  let unacked = 0;
  for (const v of versions) {
    if (audited.has(committedId(v.key, v.version))) continue;
    out.auditMissing++;
    if (!ackIds.has(`${v.key}@${v.version}`)) unacked++;
    if (out.auditMissing <= 3) notes.push(`audit missing: no success row for ${v.key} v${v.version}`);
  }
  if (unacked)
    notes.push(`${unacked} of the versions without an audit row were never acknowledged (cut writes)`);

  for (const c of current) {
    const top = newest.get(String(c._id)) ?? 0;
    if (Number(c.version) < top) {
      out.unrepaired++;
      notes.push(`unrepaired: ${String(c._id)} is current at v${String(c.version)} but v${top} exists`);
    }
  }
  const closed = new Map(closures.map((c) => [String(c._id).slice('close:'.length), String(c.status)]));
  for (const r of requests) {
    const status = closed.get(String(r._id)) ?? String(r.status);
    if (status === 'applying') {
      out.unrepaired++;
      notes.push(`unrepaired: change request ${String(r._id)} is still applying`);
    }
  }
  return out;
}

/** The audit chain's verifier, once the audit log has one (issue #25, part 1). */
export const VERIFY_SCRIPT = 'scripts/audit-verify.ts';

/**
 * Runs `scripts/audit-verify.ts --json` on the scenario's database: true when it exits 0 (intact),
 * false when 1 (broken), null when there is no verifier yet or it could not say.
 */
export async function chainIntact(uriWithDb: string, notes: string[]): Promise<boolean | null> {
  if (!existsSync(path.join(ROOT, VERIFY_SCRIPT))) return null;
  // A DATA_DIR of its own: the verifier starts a runtime, which keeps a last-known-good copy there.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'config-bot-chaos-verify-'));
  const p = spawnTs('audit-verify', VERIFY_SCRIPT, ['--json'], {
    MONGODB_URI: uriWithDb,
    DATA_DIR: dataDir,
    ENVIRONMENTS: ENVIRONMENTS.join(','),
  });
  const timer = setTimeout(() => p.signal('SIGKILL'), 60_000);
  const { code } = await p.exited;
  clearTimeout(timer);
  await p.stop(0);
  await rm(dataDir, { recursive: true, force: true });
  if (code === 0) return true;
  if (code === 1) {
    notes.push(`audit chain broken: ${p.stdout().slice(0, 300).replace(/\s+/g, ' ')}`);
    return false;
  }
  notes.push(
    `audit-verify could not check the chain (exit ${code}): ${p.output().slice(-300).replace(/\s+/g, ' ')}`,
  );
  return null;
}

/** Slots whose newest version is ahead of their current document (or that have none): writes cut half way. */
export async function behind(uri: string, dbName: string): Promise<string[]> {
  const conn = await connect({ uri, dbName, timeoutMs: 10_000 });
  try {
    const db = conn.db;
    if (!db) return [];
    const newest = new Map<string, number>();
    for (const v of await db
      .collection('config_versions')
      .find({}, { projection: { _id: 0, key: 1, version: 1 } })
      .toArray())
      newest.set(String(v.key), Math.max(newest.get(String(v.key)) ?? 0, Number(v.version)));
    const current = new Map(
      (
        await db
          .collection('system_configs')
          .find({}, { projection: { version: 1 } })
          .toArray()
      ).map((d) => [String(d._id), Number(d.version)]),
    );
    return [...newest]
      .filter(([slot, n]) => (current.get(slot) ?? 0) < n)
      .map(
        ([slot, n]) =>
          `${slot} v${n} (current: ${current.has(slot) ? `v${current.get(slot)}` : 'no document'})`,
      );
  } finally {
    await conn.close();
  }
}
