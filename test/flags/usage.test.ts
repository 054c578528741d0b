import { describe, expect, it } from 'vitest';
import { FlagStore } from '../../src/flags/flags.js';
import { FlagUsageRecords } from '../../src/storage/flag-usage.js';
import { freshService } from '../helpers/fresh.js';

const HOUR_MS = 3600_000;

async function started(label: string) {
  const { db, svc } = await freshService(label);
  const flags = new FlagStore(svc);
  await flags.load();
  return { flags, records: new FlagUsageRecords(db.conn) };
}

describe('flag evaluation counts', () => {
  it('adds counts of one hour into one bucket and sums the last 24 hours by reason', async () => {
    const { flags, records } = await started('usage_sum');
    const now = new Date();
    await flags.usage.add({ checkout: { rollout_in: 3, included: 1 } }, now);
    await flags.usage.add({ checkout: { rollout_in: 2 } }, now);
    await flags.usage.add({ checkout: { rollout_out: 5 } }, new Date(now.getTime() - 30 * HOUR_MS));
    expect((await records.since(new Date(0))).filter((b) => b.name === 'checkout')).toHaveLength(2);
    expect((await flags.usage.last24h(now)).get('checkout')).toEqual({ rollout_in: 5, included: 1 });
    expect((await flags.usage.lastEvaluated()).get('checkout')?.getTime()).toBe(now.getTime());
  });

  it('keeps only known reasons with positive counts, and records nothing for a name left empty', async () => {
    const { flags } = await started('usage_filter');
    // As an application may send them: any names, any numbers.
    const sent: Record<string, Record<string, number>> = {
      checkout: { rollout_in: 2, bogus: 7, included: -1 },
      typo: { bogus: 1 },
    };
    await flags.usage.add(sent);
    expect(Object.fromEntries(await flags.usage.last24h())).toEqual({ checkout: { rollout_in: 2 } });
    expect([...(await flags.usage.lastEvaluated()).keys()]).toEqual(['checkout']);
  });

  it('keeps a week of buckets and deletes older ones when counts are added', async () => {
    const { flags, records } = await started('usage_trim');
    const now = new Date();
    await flags.usage.add({ old: { rollout_in: 1 } }, new Date(now.getTime() - 9 * 24 * HOUR_MS));
    await flags.usage.add({ week: { rollout_in: 1 } }, new Date(now.getTime() - 7 * 24 * HOUR_MS));
    expect((await records.since(new Date(0))).map((b) => b.name).sort()).toEqual(['old', 'week']);
    await flags.usage.add({ recent: { rollout_in: 1 } }, now);
    expect((await records.since(new Date(0))).map((b) => b.name).sort()).toEqual(['recent', 'week']);
  });
});
