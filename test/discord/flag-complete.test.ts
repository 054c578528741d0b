import { describe, expect, it } from 'vitest';
import { actor } from '../helpers/db.js';
import { as, useBot } from '../helpers/discord.js';

const f = useBot('discord_flag_complete');

describe('/flag autocomplete', () => {
  it('suggests flag names by name then description, archived ones only where they can be used', async () => {
    const flags = f.bot.ctx.flags;
    await flags.create(
      { name: 'pay-v2', description: 'Checkout payments', type: 'release', owner: 'x' },
      actor(),
    );
    await flags.create({ name: 'checkout-ui', description: 'New UI', type: 'release', owner: 'x' }, actor());
    await flags.create({ name: 'checkout-old', description: 'Old', type: 'release', owner: 'x' }, actor());
    await flags.archive('checkout-old', actor());
    const s = f.bot.session();
    expect((await s.complete('/flag on name:checkout')).map((c) => c.value)).toEqual([
      'checkout-ui',
      'pay-v2',
    ]);
    expect((await s.complete('/flag history name:checkout')).map((c) => c.value)).toEqual([
      'checkout-old',
      'checkout-ui',
      'pay-v2',
    ]);
    // A flag cannot require itself: it is not offered.
    expect(
      (await s.complete('/flag require name:checkout-ui prerequisite:checkout')).map((c) => c.value),
    ).toEqual(['pay-v2']);
    expect(await s.complete('/flag on name:pay-v2 env:')).toEqual([
      { name: 'production', value: 'production' },
    ]);
  });

  it('gives no suggestions to a server outside the allowlist', async () => {
    await f.bot.ctx.flags.create({ name: 'secret-plan', description: 'S', type: 'ops', owner: 'x' }, actor());
    expect((await f.bot.session().complete('/flag view name:secret')).map((c) => c.value)).toEqual([
      'secret-plan',
    ]);
    expect(await f.bot.session(as.foreignAdmin()).complete('/flag view name:secret')).toEqual([]);
  });
});
