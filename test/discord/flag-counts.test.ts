import { describe, expect, it } from 'vitest';
import { registry } from '../../src/config/registry.js';
import { startTestApi } from '../helpers/api.js';
import { actor } from '../helpers/db.js';
import { startBot } from '../helpers/discord.js';
import { captureLogs } from '../helpers/logs.js';

const flag = (name: string) => ({ name, description: 'A flag', type: 'ops' as const, owner: 'team' });

describe('keys and flags are counted apart', () => {
  it('in the start-up log and in /config status', async () => {
    const first = await startTestApi('flag_counts');
    await first.runtime.flags.create(flag('first-flag'), actor());
    await first.runtime.flags.create(flag('second-flag'), actor());
    await first.runtime.config.set('MAX_BATCH_SIZE', '120', actor(), undefined, {}, { scope: 'env:staging' });

    const logs = captureLogs();
    const next = await startTestApi('flag_counts_next', { dbName: first.env.MONGODB_DB_NAME });
    logs.stop();
    const messages = logs.lines.map((l) => String((JSON.parse(l) as { message: unknown }).message));
    expect(messages).toContain(`Configuration loaded: ${registry.size} keys, 1 override`);
    expect(messages).toContain('Feature flags loaded: 2');

    const bot = await startBot(next.runtime.config, {}, next.runtime);
    try {
      const [, status] = await bot.session().run('/config status');
      const cache = status?.embeds[0]?.fields?.find((f) => f.name === 'Cache')?.value;
      expect(cache).toMatch(new RegExp(`^${registry.size} keys, 1 override · 2 feature flags · `));
    } finally {
      await bot.close();
    }
  });
});
