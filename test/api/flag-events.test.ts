import { describe, expect, it, vi } from 'vitest';
import type { FlagInput } from '@config-bot/client/flags';
import { actor } from '../helpers/db.js';
import { startTestApi, type TestApi } from '../helpers/api.js';
import { openEvents, type SseEvent } from '../helpers/sse.js';

const admin = actor();
const bob = actor('222222222222222222', 'bob');

const checkout: FlagInput = {
  name: 'new-checkout',
  description: 'The new checkout page',
  type: 'release',
  owner: 'payments',
  environments: ['production'],
};

const events = (api: TestApi, token: string, query = '', headers: Record<string, string> = {}) =>
  openEvents(`${api.url}/v1/events${query}`, { authorization: `Bearer ${token}`, ...headers });

const at = (type: string, seq: number | undefined) => (e: SseEvent) =>
  e.event === type && e.id === String(seq);

/** Sets the rollout of new-checkout as `who`; returns the change's position. */
async function rollout(api: TestApi, percentage: number, who = admin): Promise<number> {
  const done = await api.runtime.flags.update('new-checkout', (f) => ({ ...f, rollout: percentage }), who);
  return done.seq ?? -1;
}

describe('flag changes on GET /v1/events', () => {
  it('sends a created and a changed flag as flag events with the definition of each version', async () => {
    const api = await startTestApi('flag_events_live');
    const stream = await events(api, await api.token('read'));
    const created = await api.runtime.flags.create(checkout, admin, 'launch prep');
    const e = await stream.next(at('flag', created.seq), 'the creation');
    expect(e.data).toEqual({
      seq: created.seq,
      name: 'new-checkout',
      version: 1,
      action: 'create',
      actor: admin,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      flag: {
        ...created.flag,
        version: 1,
        updatedAt: created.at.toISOString(),
        updatedBy: admin,
      },
    });
    const changed = await rollout(api, 25, bob);
    const second = await stream.next(at('flag', changed), 'the change');
    expect(second.data).toMatchObject({
      name: 'new-checkout',
      version: 2,
      action: 'set',
      actor: bob,
      flag: { rollout: 25, version: 2, updatedBy: bob },
    });
    expect(stream.events.filter((x) => x.event !== 'checkpoint').map((x) => x.event)).toEqual([
      'flag',
      'flag',
    ]);
  });

  it('sends flag events to a key-filtered and an env-scoped stream, and only checkpoints with flags=false', async () => {
    const api = await startTestApi('flag_events_filters');
    const keyed = await events(api, await api.token('read'), '?keys=MAX_BATCH_SIZE');
    const staging = await events(api, await api.token('read', { scope: 'env:staging' }));
    const without = await events(api, await api.token('read'), '?flags=false');
    const { seq } = await api.runtime.flags.create(checkout, admin);
    await keyed.next(at('flag', seq), 'the flag event on a key-filtered stream');
    await staging.next(at('flag', seq), 'the flag event on an env-scoped stream');
    expect((await without.next(at('checkpoint', seq), 'a checkpoint')).data).toEqual({ seq });
    expect(without.events.filter((e) => e.event === 'flag')).toEqual([]);
  });

  it('resumes from Last-Event-ID with the missed flag and value changes in order, each flag event at its own version', async () => {
    const api = await startTestApi('flag_events_resume');
    const token = await api.token('read');
    const { seq: created } = await api.runtime.flags.create(checkout, admin);
    // Both committed before the stream opens: the store holds version 3 already.
    const ten = await rollout(api, 10);
    const value = (await api.runtime.config.set('MAX_BATCH_SIZE', '300', admin)).seq;
    const twenty = await rollout(api, 20);
    await vi.waitFor(() => expect(api.runtime.feed.position).toBeGreaterThanOrEqual(twenty));

    const resumed = await events(api, token, '', { 'last-event-id': String(created) });
    await resumed.next(at('flag', twenty), 'the last missed change');
    expect(resumed.events.map((e) => [e.event, Number(e.id)])).toEqual([
      ['flag', ten],
      ['change', value],
      ['flag', twenty],
    ]);
    const flags = resumed.events
      .filter((e) => e.event === 'flag')
      .map((e) => e.data.flag as Record<string, unknown>);
    expect(flags.map((f) => [f.version, f.rollout])).toEqual([
      [2, 10],
      [3, 20],
    ]);

    const skipping = await events(api, token, '?flags=false', { 'last-event-id': String(created) });
    await skipping.next(at('checkpoint', twenty), 'the checkpoint past the last flag change');
    expect(skipping.events.map((e) => e.event)).toEqual(['change', 'checkpoint']);
  });
});
