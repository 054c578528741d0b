/**
 * The bot-like processes of the clock-skew faults (peer.ts), each with its clock moved by whole
 * minutes, driven one command at a time.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { ENVIRONMENTS } from '../lib/cluster.js';
import type { ChaosContext } from '../types.js';
import { clockTool, spawnTs, type Cleanup, type Child } from './common.js';

export const SKEW_MIN = 5;
/** Short, so that a lease's heartbeat (every third of it) is seen often; still far below the skew. */
export const LEASE_TTL_MS = 3000;
export const SKEW_FAULTS = [
  'leases of job runs',
  'scheduled changes and temporary values',
  'export spans',
].map((f) => `clock ${SKEW_MIN} min apart: ${f}`);

export class Peer {
  private n = 0;
  constructor(
    readonly label: string,
    readonly skewMin: number,
    readonly child: Child,
    readonly instanceId: string,
  ) {}

  get skewMs(): number {
    return this.skewMin * 60_000;
  }

  /** One command, one answer (never throws: a failure is `{ error }`). */
  async ask(cmd: Record<string, unknown>, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const id = `${this.label}${++this.n}`;
    this.child.send(JSON.stringify({ id, ...cmd }));
    const line = await this.child.line(new RegExp(`"id":"${id}"`), timeoutMs);
    if (!line) return { error: `no answer from ${this.label} within ${timeoutMs} ms` };
    return JSON.parse(line) as Record<string, unknown>;
  }

  /** Log lines of take-overs and abandons: none is right while every holder is alive. */
  takeovers(): string[] {
    return this.child.errLines.filter((l) => /Took over the|Abandoned the/.test(l));
  }
}

export interface SkewCtx {
  chaos: ChaosContext;
  uri: string;
  dbName: string;
  conn: Connection;
  peers: Peer[];
  cleanup: Cleanup;
}

export async function startPeer(
  c: Omit<SkewCtx, 'peers'>,
  label: string,
  skewMin: number,
): Promise<Peer | string> {
  const dataDir = path.join(c.chaos.workDir, `skew-${label}`);
  mkdirSync(dataDir, { recursive: true });
  const child = spawnTs(
    'scripts/chaos/disk-clock/peer.ts',
    {
      MONGODB_URI: c.uri,
      MONGODB_DB_NAME: c.dbName,
      DATA_DIR: dataDir,
      EXPORT_DIR: path.join(c.chaos.workDir, 'skew-exports'),
      DISCORD_TOKEN: '',
      HTTP_PORT: '',
      NODE_ENV: 'development',
      APPROVALS_REQUIRED: 'none',
      ENVIRONMENTS: ENVIRONMENTS.join(','),
      LEASE_TTL_MS: String(LEASE_TTL_MS),
      DB_TIMEOUT_MS: '1000',
    },
    { skewMin },
  );
  c.cleanup.add(() => child.stop());
  const ready = await child.line(/"ready"/, 30_000);
  if (!ready) return `peer ${label} did not start: ${child.errLines.at(-1) ?? 'no output'}`;
  const { ready: id, now } = JSON.parse(ready) as { ready: string; now: number };
  const seen = Math.round((now - Date.now()) / 60_000);
  if (seen !== skewMin) return `peer ${label}'s clock is ${seen} min off, not ${skewMin} (${clockTool})`;
  return new Peer(label, skewMin, child, id);
}

export const fmt = (m: number) => (m === 0 ? 'clock right' : `clock ${m > 0 ? '+' : ''}${m} min`);
