/**
 * Database faults under load: the database server SIGKILLed and started again, SIGSTOPped and
 * continued (scenario `database`); and the embedded database a process runs without MONGODB_URI
 * killed under it, and that process itself killed and started again over its DATA_DIR
 * (scenario `embedded`, in ./embedded.ts).
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosContext, FaultResult, Scenario } from './types.js';
import { startCluster, type Cluster } from './lib/cluster.js';
import { underLoad } from './lib/phases.js';
import { pick, runSteps } from './lib/row.js';

const KILLED = 'database SIGKILL mid-load, restarted';
const PAUSED = 'database SIGSTOP mid-load, SIGCONT';

async function databaseKilled(ctx: ChaosContext, c: Cluster): Promise<FaultResult> {
  const downMs = pick(ctx.quick, 1500, 4000);
  return underLoad(ctx, c, {
    fault: KILLED,
    ops: pick(ctx.quick, 40, 400),
    plannedMs: downMs + pick(ctx.quick, 2500, 6000),
    clients: pick(ctx.quick, 3, 6),
    recoverWithinMs: 30_000,
    settleMs: pick(ctx.quick, 8000, 20_000),
    async inject() {
      await c.db.kill();
      await sleep(downMs);
      await c.db.restart();
      return Date.now();
    },
  });
}

async function databasePaused(ctx: ChaosContext, c: Cluster): Promise<FaultResult> {
  // Longer than DB_TIMEOUT_MS + 1 s: writes waiting on it are answered 503 "not confirmed".
  const pausedMs = pick(ctx.quick, 2500, 6000);
  return underLoad(ctx, c, {
    fault: PAUSED,
    ops: pick(ctx.quick, 40, 400),
    plannedMs: pausedMs + pick(ctx.quick, 2500, 6000),
    clients: pick(ctx.quick, 3, 6),
    recoverWithinMs: 30_000,
    settleMs: pick(ctx.quick, 8000, 20_000),
    async inject() {
      c.db.pause();
      try {
        await sleep(pausedMs);
      } finally {
        c.db.resume();
      }
      return Date.now();
    },
  });
}

export const databaseScenario: Scenario = {
  id: 'database',
  title: 'the database server SIGKILLed and SIGSTOPped under load, then back',
  async run(ctx) {
    const dbTimeout = pick(ctx.quick, '1000', '3000');
    ctx.log(
      `database: starting a private FerretDB and ${pick(ctx.quick, 'an API process', 'an API and a bot process')}`,
    );
    const c = await startCluster({
      dir: path.join(ctx.workDir, 'database'),
      servers: pick<('api' | 'bot')[]>(ctx.quick, ['api'], ['api', 'bot']),
      vars: { DB_TIMEOUT_MS: dbTimeout },
      log: ctx.log,
    });
    try {
      return await runSteps(
        ctx,
        [
          [KILLED, () => databaseKilled(ctx, c)],
          [PAUSED, () => databasePaused(ctx, c)],
        ],
        { chainUri: () => c.uri },
      );
    } finally {
      await c.stop();
    }
  },
};
