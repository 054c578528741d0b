/**
 * The one-off processes the kill faults cut: an import (`npm run config:import`) and an approval
 * typed in the console (`npm run console`), each killed when the database shows it has reached a
 * random point of its work; and the export file such an import reads.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'mongoose';
import { connect } from '../../../src/storage/connection.js';
import type { Cluster } from './cluster.js';
import { spawnTs, type Proc } from './procs.js';

/** Environments the imports write (the processes serve `production`, which they leave alone). */
const IMPORT_ENVS = ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8'];

export interface ImportFile {
  file: string;
  /** slot (KEY|env:eN) → the value the file sets. */
  values: Map<string, unknown>;
}

/**
 * An export file setting several keys in every import environment, each value new for round
 * `round`; with `highImpact`, AI_CONFIDENCE_THRESHOLD too, so that the import needs an approval.
 */
export function importFile(dir: string, round: number, highImpact: boolean): ImportFile {
  const values = new Map<string, unknown>();
  const keys: Record<string, { values: Record<string, { value: unknown; version: number }> }> = {};
  const put = (key: string, env: string, value: unknown) => {
    (keys[key] ??= { values: {} }).values[`env:${env}`] = { value, version: 0 };
    values.set(`${key}|env:${env}`, value);
  };
  IMPORT_ENVS.forEach((env, i) => {
    put('IMMEDIATE_EXPORT_BUFFER', env, (round * 11 + i * 3) % 121);
    put('DAILY_EXPORT_TIME', env, `${18 + (round % 4)}:${String((round * 7 + i * 5) % 60).padStart(2, '0')}`);
    put('LOG_LEVEL', env, ['error', 'warn', 'debug'][(round + i) % 3]);
    put('MAINTENANCE_MODE', env, (round + i) % 2 === 0);
    if (highImpact)
      put('AI_CONFIDENCE_THRESHOLD', env, Number((0.6 + ((round * 3 + i) % 35) / 100).toFixed(2)));
  });
  const file = path.join(dir, `import-${round}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      format: 'config-bot-export',
      formatVersion: 1,
      exportedAt: new Date().toISOString(),
      environments: ['production', ...IMPORT_ENVS],
      secrets: 'omitted',
      keys,
    }),
  );
  return { file, values };
}

/** A one-off process of the cluster's (its own DATA_DIR), as an operator runs it. */
export function runScriptProc(c: Cluster, name: string, file: string, args: string[], dataDir: string): Proc {
  return spawnTs(name, file, args, { ...c.env, DATA_DIR: dataDir });
}

/** Resolves with the process's exit code, killing it after `timeoutMs`. */
export async function finished(p: Proc, timeoutMs: number): Promise<number | null> {
  const timer = setTimeout(() => p.signal('SIGKILL'), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  await p.stop(0);
  return code;
}

/**
 * Kills `p` (SIGKILL) once `reached` says its work got to the chosen point, checked every few
 * milliseconds on a connection of the runner's; true when it was killed, false when it ended first.
 */
export async function killWhen(
  c: Cluster,
  p: Proc,
  reached: (conn: Connection) => Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const conn = await connect({ uri: c.uri, dbName: c.dbName, timeoutMs: 10_000 });
  try {
    const until = Date.now() + timeoutMs;
    while (p.running() && Date.now() < until) {
      if (await reached(conn)) {
        p.signal('SIGKILL');
        await p.exited;
        return true;
      }
      await sleep(3);
    }
    return false;
  } finally {
    await conn.close();
  }
}

/** Versions written with `filter` (an import's reason, a request's id). */
export async function versionCount(conn: Connection, filter: Record<string, unknown>): Promise<number> {
  return (await conn.db?.collection('config_versions').countDocuments(filter)) ?? 0;
}
