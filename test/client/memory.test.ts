import { describe, expect, it } from 'vitest';
import { Memory } from '../../packages/client/src/client/memory.js';

/**
 * What the client holds in memory, fed as the API would feed it. The shipped keys all hold
 * scalars, so a value holding an object (a key of a JSON kind) cannot come from the real API in
 * tests: the freezing that protects one is checked here, below the client.
 */
describe('Memory', () => {
  it('hands out values from snapshots and changes that the application cannot mutate', () => {
    const memory = new Memory(undefined);
    memory.applySnapshot({
      seq: 1,
      environment: 'production',
      guild: null,
      values: { RETRY_POLICY: { value: { delays: [1, 5] }, version: 1, layer: 'global', sensitive: false } },
    });
    const loaded = memory.value('RETRY_POLICY') as { found: true; value: { delays: number[] } };
    expect(() => loaded.value.delays.push(2)).toThrow(TypeError);

    memory.applyChange({
      seq: 2,
      key: 'RETRY_POLICY',
      scope: 'global',
      action: 'set',
      actor: null,
      at: '',
      value: { delays: [10] },
      version: 2,
      layer: 'global',
      sensitive: false,
    });
    const changed = memory.value('RETRY_POLICY') as { found: true; value: { delays: number[] } };
    expect(changed.value).toEqual({ delays: [10] });
    expect(() => changed.value.delays.push(2)).toThrow(TypeError);
  });
});
