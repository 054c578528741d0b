import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import type { ConfigChange } from '../../src/config/events.js';
import { followLogLevel } from '../../src/app/log-level.js';
import { logger, setLogLevel } from '../../src/base/logger.js';
import { actor } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';
import { captureLogs } from '../helpers/logs.js';
import { outcome } from '../helpers/outcome.js';

// Each test starts from the defaults, on a database and service of its own.
const bob = actor('222222222222222222', 'bob');

describe('config:changed', () => {
  it('is emitted once the change is committed, with old and new value, version, action and actor', async () => {
    const { db, svc } = await freshService('events');
    const seen: { change: ConfigChange; storedVersion: Promise<number | undefined> }[] = [];
    const off = svc.subscribe(['MAX_BATCH_SIZE'], (change) => {
      const stored = bindModels(db.conn)
        .ConfigVersion.findOne({ key: change.key, version: change.version })
        .lean()
        .then((v) => v?.version);
      seen.push({ change, storedVersion: stored });
    });
    await svc.set('MAX_BATCH_SIZE', '250', bob);
    off();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.change).toEqual({
      key: 'MAX_BATCH_SIZE',
      scope: 'global',
      oldValue: 100,
      newValue: 250,
      version: 2,
      action: 'set',
      actor: bob,
    });
    expect(await seen[0]?.storedVersion).toBe(2);
  });

  it('is not emitted for a refused change', async () => {
    const { svc } = await freshService('events');
    expect((await outcome(svc.set('MAX_BATCH_SIZE', '250', bob))).ok).toBe(true);
    const seen: ConfigChange[] = [];
    const off = svc.subscribe(undefined, (c) => void seen.push(c));
    expect(await outcome(svc.set('MAX_BATCH_SIZE', '5000', bob))).toMatchObject({
      error: { code: 'INVALID_VALUE' },
    });
    expect(await outcome(svc.set('MAX_BATCH_SIZE', '250', bob))).toMatchObject({
      error: { code: 'UNCHANGED' },
    });
    off();
    expect(seen).toEqual([]);
  });

  it('only reaches subscribers of that key, and stops after unsubscribe', async () => {
    const { svc } = await freshService('events');
    const forBuffer: string[] = [];
    const off = svc.subscribe(
      ['immediate_export_buffer'],
      (c) => void forBuffer.push(`${c.key}=${String(c.newValue)}`),
    );
    await svc.set('MAX_BATCH_SIZE', '300', bob);
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '10', bob);
    off();
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '20', bob);
    expect(forBuffer).toEqual(['IMMEDIATE_EXPORT_BUFFER=10']);
  });

  it('a throwing or rejecting listener is logged and affects neither the write nor other listeners', async () => {
    const { svc } = await freshService('events');
    const logs = captureLogs();
    const reached: string[] = [];
    const offs = [
      svc.subscribe(['AI_CONFIDENCE_THRESHOLD'], () => {
        throw new Error('listener exploded');
      }),
      svc.subscribe(['AI_CONFIDENCE_THRESHOLD'], async () => {
        throw new Error('async listener exploded');
      }),
      svc.subscribe(['AI_CONFIDENCE_THRESHOLD'], (c) => void reached.push(String(c.newValue))),
    ];
    const res = await outcome(svc.set('AI_CONFIDENCE_THRESHOLD', '0.9', bob));
    await new Promise((r) => setImmediate(r));
    offs.forEach((off) => off());
    logs.stop();
    expect(res.ok).toBe(true);
    expect(svc.get('AI_CONFIDENCE_THRESHOLD')).toBe(0.9);
    expect(reached).toEqual(['0.9']);
    expect(logs.lines.join()).toContain('listener exploded');
    expect(logs.lines.join()).toContain('async listener exploded');
  });
});

describe('LOG_LEVEL', () => {
  it('follows CONFIG_OVERRIDE_LOG_LEVEL over stored changes', async () => {
    const { svc } = await freshService('events_override', {
      overrides: [{ key: 'LOG_LEVEL', variable: 'CONFIG_OVERRIDE_LOG_LEVEL', value: 'warn' }],
    });
    const stop = followLogLevel(svc);
    try {
      expect(logger.level).toBe('warn');
      const res = await svc.set('LOG_LEVEL', 'debug', bob);
      expect(res.warnings.join()).toMatch(/uses CONFIG_OVERRIDE_LOG_LEVEL/);
      expect(svc.describe('LOG_LEVEL')).toMatchObject({
        display: 'warn',
        override: { variable: 'CONFIG_OVERRIDE_LOG_LEVEL', storedDisplay: 'debug' },
      });
      expect(logger.level).toBe('warn');
      expect(svc.getAll().LOG_LEVEL).toBe('warn');
    } finally {
      stop();
      setLogLevel('info');
    }
  });

  it('changes the running logger level at once', async () => {
    const { svc } = await freshService('events');
    const stop = followLogLevel(svc);
    expect(logger.level).toBe('info');
    await svc.set('LOG_LEVEL', 'debug', bob);
    expect(logger.level).toBe('debug');
    await svc.set('LOG_LEVEL', 'warn', bob);
    expect(logger.level).toBe('warn');
    await svc.reset('LOG_LEVEL', bob);
    expect(logger.level).toBe('info');
    stop();
    await svc.set('LOG_LEVEL', 'error', bob);
    expect(logger.level, 'no longer followed once stopped').toBe('info');
  });
});
