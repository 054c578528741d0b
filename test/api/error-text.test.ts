import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.js';
import { as, displayed, startBot } from '../helpers/discord.js';

interface ErrorBody {
  error: { code: string; message: string };
}

describe('what to do next after a refusal, said by each surface in its own terms', () => {
  it('the API names its own routes, Discord its commands; the domain error names neither', async () => {
    const api = await startTestApi('error_text');
    const writer = await api.token('write');
    const put = (json: unknown) =>
      api.call('/v1/config/MAX_BATCH_SIZE', { method: 'PUT', token: writer, json });
    expect((await put({ value: 40, scope: 'env:staging' })).status).toBe(200);
    const reset = await api.call('/v1/config/MAX_BATCH_SIZE/reset', {
      method: 'POST',
      token: writer,
      json: { scope: 'env:staging' },
    });
    expect(reset.status).toBe(200);
    const rollback = await api.call('/v1/config/MAX_BATCH_SIZE/rollback', {
      method: 'POST',
      token: writer,
      json: { version: 2, scope: 'env:staging' },
    });
    expect(rollback.status).toBe(400);
    const { error } = (await rollback.json()) as ErrorBody;
    expect(error.message).toBe(
      'Version 2 of MAX_BATCH_SIZE at env:staging removed the override: there is no value to roll back to. To remove it, POST /v1/config/MAX_BATCH_SIZE/reset with {"scope":"env:staging"}.',
    );
    const flag = await api.call('/v1/flags/nothing-like-it', { token: writer });
    expect(((await flag.json()) as ErrorBody).error.message).not.toMatch(/\/flag |\/config /);

    const bot = await startBot(api.runtime.config);
    try {
      const [, reply] = await bot
        .session(as.admin())
        .run('/config rollback setting:MAX_BATCH_SIZE version:2 scope:env:staging');
      expect(displayed(reply?.embeds[0]?.description)).toContain(
        'To remove it, use /config reset setting:MAX_BATCH_SIZE scope:env:staging.',
      );
    } finally {
      await bot.close();
    }
  });
});
