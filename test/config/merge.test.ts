import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { integer, jsonObject } from '../../src/config/kinds.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { actor } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';

const admin = actor();
const GUILD = '900000000000000777';

/** The shipped keys plus NOTIFY, a JSON object merged across scopes. */
function withNotify() {
  const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
  defs.NOTIFY = {
    ...jsonObject(
      z
        .object({
          dailyDigest: z.boolean(),
          channel: z.string().min(1),
          retries: z.number().int().min(0).max(5),
        })
        .refine((v) => !(v.dailyDigest && v.retries > 4), 'at most 4 retries with the daily digest'),
    ),
    category: 'system',
    description: 'How the application notifies',
    default: { dailyDigest: false, channel: 'ops', retries: 3 },
    sensitive: false,
    requiresRestart: false,
    scopes: ['global', 'env', 'guild'],
    merge: 'deep',
  } as KeyDefinition;
  return buildRegistry(defs);
}

const at = (scope: string) => ({ scope });

describe("merge: 'deep'", () => {
  it('an override holds only the fields it changes; the value in force is the merge of the layers', async () => {
    const { svc } = await freshService('merge_layers', { registry: withNotify() });
    const env = await svc.set('NOTIFY', '{"dailyDigest": true}', admin, undefined, {}, at('env:production'));
    expect(env.value).toEqual({ dailyDigest: true });
    expect(svc.get('NOTIFY')).toEqual({ dailyDigest: true, channel: 'ops', retries: 3 });
    await svc.set('NOTIFY', '{"retries": 1}', admin, undefined, {}, at(`guild:${GUILD}`));
    expect(svc.get('NOTIFY', { guildId: GUILD })).toEqual({ dailyDigest: true, channel: 'ops', retries: 1 });
    // A global change flows through every layer that does not override the field.
    await svc.set('NOTIFY', '{"dailyDigest": false, "channel": "alerts", "retries": 2}', admin);
    expect(svc.get('NOTIFY')).toEqual({ dailyDigest: true, channel: 'alerts', retries: 2 });
    expect(svc.get('NOTIFY', { guildId: GUILD })).toEqual({
      dailyDigest: true,
      channel: 'alerts',
      retries: 1,
    });
    // Removing the environment's override: the key inherits the global object again.
    await svc.reset('NOTIFY', admin, undefined, {}, at('env:production'));
    expect(svc.get('NOTIFY')).toEqual({ dailyDigest: false, channel: 'alerts', retries: 2 });
    expect(svc.describe('NOTIFY').display).toBe('{"dailyDigest":false,"channel":"alerts","retries":2}');
  });

  it('validates the merged whole, at the scope written and at every override below it', async () => {
    const { svc } = await freshService('merge_validate', { registry: withNotify() });
    await expect(
      svc.set('NOTIFY', '{"retries": 9}', admin, undefined, {}, at('env:production')),
    ).rejects.toMatchObject({
      code: 'INVALID_VALUE',
      message: expect.stringMatching(
        /^NOTIFY at env:production would become \{"dailyDigest":false,"channel":"ops","retries":9\}, which is not allowed/,
      ),
    });
    await svc.set('NOTIFY', '{"retries": 5}', admin, undefined, {}, at(`guild:${GUILD}`));
    // Fine for the environment itself, but the server's override would then break the rule.
    await expect(
      svc.set('NOTIFY', '{"dailyDigest": true}', admin, undefined, {}, at('env:production')),
    ).rejects.toMatchObject({
      message: expect.stringMatching(
        new RegExp(`^NOTIFY at guild:${GUILD} would become .*at most 4 retries with the daily digest`),
      ),
    });
    await expect(svc.set('NOTIFY', '5', admin, undefined, {}, at('env:production'))).rejects.toMatchObject({
      message: expect.stringMatching(/an override holds only the fields it changes/),
    });
    expect(svc.overrideScopes('NOTIFY')).toEqual([`guild:${GUILD}`]);
    // A rollback to a partial is checked the same way.
    await svc.set('NOTIFY', '{"retries": 2}', admin, undefined, {}, at(`guild:${GUILD}`));
    await svc.set('NOTIFY', '{"dailyDigest": true}', admin, undefined, {}, at('env:production'));
    await expect(svc.rollback('NOTIFY', 1, admin, undefined, {}, at(`guild:${GUILD}`))).rejects.toMatchObject(
      {
        message: expect.stringMatching(/at most 4 retries with the daily digest/),
      },
    );
  });

  it('the registry refuses merge on a key that is not a JSON object', () => {
    expect(() =>
      buildRegistry({
        N: {
          ...integer({ min: 0, max: 5 }),
          category: 'system',
          description: 'n',
          default: 1,
          sensitive: false,
          requiresRestart: false,
          merge: 'deep',
        } as KeyDefinition,
      }),
    ).toThrow(/merge 'deep' needs a jsonObject kind/);
  });
});
