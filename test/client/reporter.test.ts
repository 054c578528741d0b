import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Reporter, type ReportBody } from '../../packages/client/src/client/reporter.js';

describe('Reporter', () => {
  let applied: number;
  let sent: { at: number; applied: number }[];
  let reporter: Reporter;

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    applied = 10;
    sent = [];
    reporter = new Reporter({
      intervalMs: 60_000,
      body: (): ReportBody => ({ id: 'a', name: 'worker', host: 'h', pid: 1, applied }),
      send: async (body) => void sent.push({ at: Date.now(), applied: body.applied }),
      warn: () => undefined,
    });
    reporter.start();
  });

  afterEach(async () => {
    await reporter.stop();
    vi.useRealTimers();
  });

  /** A change applied: the position moves and the client asks for a report. */
  const apply = (): void => {
    applied += 1;
    reporter.now();
  };

  it('sends at most one immediate report per 250 ms, the last with the latest position', async () => {
    apply();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([{ at: 0, applied: 11 }]);
    for (let i = 0; i < 5; i++) apply();
    await vi.advanceTimersByTimeAsync(100);
    apply();
    await vi.advanceTimersByTimeAsync(149);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([
      { at: 0, applied: 11 },
      { at: 250, applied: 17 },
    ]);
  });

  it('still reports at once after a quiet spell, and every interval while nothing changes', async () => {
    apply();
    await vi.advanceTimersByTimeAsync(1_000);
    apply();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent).toEqual([
      { at: 0, applied: 11 },
      { at: 1_000, applied: 12 },
      { at: 61_000, applied: 12 },
    ]);
  });
});
