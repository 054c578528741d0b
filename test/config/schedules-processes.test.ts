import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { actor, openService, openTestDb } from '../helpers/db.js';
import { spawnTs, type Child } from '../helpers/process.js';

const admin = actor();

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('due changes across OS processes', () => {
  it(
    'two bot processes apply each expiry and scheduled change once; one started after the due time catches up',
    { timeout: 90_000 },
    async () => {
      const db = await openTestDb('sched_processes');
      const svc = await openService(db);
      const children: Child[] = [];
      const start = (holder: string) => {
        const c = spawnTs('test/fixtures/schedule-runner.ts', [
          JSON.stringify({ uri: db.uri, dbName: db.dbName, holder }),
        ]);
        children.push(c);
        return c;
      };
      onTestFinished(async () => {
        for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
        await svc.close();
        await db.drop();
      });
      // Waiting or being applied: a claimed change is `running` until its outcome is recorded.
      const pendingCount = () =>
        db.conn.collection('config_schedules').countDocuments({ status: { $in: ['pending', 'running'] } });

      // While no runner is up (every bot process down), changes fall due.
      await svc.set('MAX_BATCH_SIZE', '500', admin, undefined, {}, { forMs: 60_000 });
      await svc.set(
        'AI_CONFIDENCE_THRESHOLD',
        '0.7',
        admin,
        undefined,
        {},
        { scope: 'env:production', forMs: 60_000 },
      );
      await svc.timed.schedule('LOG_LEVEL', 'warn', new Date(Date.now() + 1500), admin);
      await db.conn
        .collection('config_schedules')
        .updateMany({ kind: 'expire' }, { $set: { runAt: new Date(Date.now() + 1500) } });
      await sleep(1600);
      expect(await pendingCount()).toBe(3);

      // Then two processes start together and race for them.
      const [a, b] = [start('a'), start('b')];
      for (const c of [a, b]) expect(await c.nextLine(30_000, 'ready')).toBe('ready');
      await until(async () => (await pendingCount()) === 0, 20_000, 'every due change');

      await svc.refresh();
      await svc.catchUp('AI_CONFIDENCE_THRESHOLD|env:production');
      expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
      expect(svc.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.85);
      expect(svc.get('LOG_LEVEL')).toBe('warn');
      const actions = async (key: string, scope?: string) =>
        (await svc.history(key, { scope: scope ?? null, limit: 20 })).map((v) => v.action);
      expect(await actions('MAX_BATCH_SIZE')).toEqual(['expire', 'set', 'init']);
      expect(await actions('AI_CONFIDENCE_THRESHOLD', 'env:production')).toEqual(['unset', 'set']);
      expect(await actions('LOG_LEVEL')).toEqual(['scheduled', 'init']);
      const docs = await db.conn.collection('config_schedules').find({}).toArray();
      expect(docs.map((d) => d.status)).toEqual(['done', 'done', 'done']);

      // One process killed: the other keeps applying what falls due.
      a.proc.kill('SIGKILL');
      await svc.set('IMMEDIATE_EXPORT_BUFFER', '45', admin, undefined, {}, { forMs: 60_000 });
      await db.conn
        .collection('config_schedules')
        .updateMany({ status: 'pending' }, { $set: { runAt: new Date() } });
      await until(async () => (await pendingCount()) === 0, 20_000, 'the change after a process died');
      await svc.refresh();
      expect(svc.get('IMMEDIATE_EXPORT_BUFFER')).toBe(30);
      expect(await actions('IMMEDIATE_EXPORT_BUFFER')).toEqual(['expire', 'set', 'init']);
    },
  );
});
