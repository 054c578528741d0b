import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDiscordRest } from '../../scripts/chaos/discord-rest.js';
import { ferretUnavailable } from '../../scripts/chaos/lib/ferret.js';

// The quick version of the Discord REST faults of `npm run chaos`: two bot processes, a
// Discord-shaped REST server on loopback answering 429, 500 and timeouts, real interactions.

const workDir = mkdtempSync(path.join(tmpdir(), 'config-bot-chaos-discord-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('Discord REST faults', () => {
  it('under 429, 500 and timeouts delivers every reply, approval message and alert once, loses and duplicates no write, and waits out every retry_after', async (t) => {
    const unavailable = ferretUnavailable();
    if (unavailable) {
      process.stderr.write(`Discord REST faults SKIPPED: ${unavailable}\n`);
      t.skip();
    }
    const rows = await runDiscordRest({
      quick: true,
      workDir,
      deadline: Date.now() + 60_000,
      log: () => undefined,
    });
    expect(rows.map((r) => r.fault)).toEqual([
      expect.stringMatching(/429/),
      expect.stringMatching(/500/),
      expect.stringMatching(/timeout/),
    ]);
    for (const r of rows) {
      const mustBeZero = {
        versionsLost: r.versionsLost,
        duplicated: r.duplicated,
        auditMissing: r.auditMissing,
        stackTraces: r.stackTraces,
        messagesLost: r.messagesLost,
        otherAnswers: r.otherAnswers,
        retriesTooEarly: r.retriesTooEarly,
        neverRetried: r.neverRetried,
      };
      expect({ fault: r.fault, ...mustBeZero }, r.notes.join('\n')).toEqual({
        fault: r.fault,
        ...Object.fromEntries(Object.keys(mustBeZero).map((k) => [k, 0])),
      });
      expect(r.chainIntact).not.toBe(false);
      // Every attempt answered: a success, or the refusal of the invalid value with its reason.
      expect(r.succeeded + r.refused).toBe(r.attempted);
      expect(r.refused).toBe(1);
      expect(r.writesChecked).toBeGreaterThan(0);
    }
    // The 429s were answered, and every retry came after its retry_after.
    expect(rows[0]?.rateLimited).toBeGreaterThan(0);
    // The timeouts include answers lost after Discord acted: first responses carried on (40060).
    expect(rows[2]?.notes.join('\n')).toMatch(/timeout after Discord acted/);
  }, 120_000);
});
